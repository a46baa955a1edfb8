extension String {
    /// The text padded with spaces, or cut, to `length` UTF-16 code units. Columns are
    /// measured in characters, so a row with characters outside the Basic Multilingual
    /// Plane comes out narrower; the tables have always been laid out this way.
    func padded(toLength length: Int) -> String {
        let units = utf16.count
        if units >= length { return String(decoding: utf16.prefix(length), as: UTF16.self) }
        return self + String(repeating: " ", count: length - units)
    }
}
