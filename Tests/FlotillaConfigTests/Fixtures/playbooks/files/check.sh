#!/bin/sh
echo check "$1"
