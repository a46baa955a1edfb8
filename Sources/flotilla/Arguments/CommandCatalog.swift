// Every command's description: the single source of parsing, `--help` and docs/commands.md.

extension CommandSpec {
    static let run = CommandSpec(
        name: "run",
        abstract: "Run a playbook's stages on the hosts it selects.",
        usage: [
            "flotilla run PLAYBOOK [-i INVENTORY]... [-l PATTERN] [--stage NAME]... "
                + "[-e KEY=VALUE]... [--check] [--diff] [--forks N] [--logs DIR] [--resume] "
                + "[--shard K/N] [--output auto|tty|plain|github|json] [-v|-q]",
        ],
        arguments: [Argument(name: "PLAYBOOK", help: "The playbook file to run.")],
        options: [
            .inventory, .limit,
            Option(
                long: "stage", value: "NAME", repeatable: true,
                help: "Run only this stage; repeat for several."),
            Option(
                short: "-e", long: "extra-var", value: "KEY=VALUE", repeatable: true,
                help: "Set a variable over every other source; repeat for several."),
            Option(long: "check", help: "Connect and report what would change; change nothing."),
            Option(long: "diff", help: "Show the text diff of files that change (never secrets)."),
            .forks, .logs,
            Option(long: "resume", help: "Continue the last run of this playbook and inventory."),
            Option(
                long: "shard", value: "K/N",
                help: "Run only the K-th of N stable shards of the selected hosts."),
            .output, .verbose, .quiet, .help,
        ],
        examples: [
            Example(
                comment: "Deploy to the canary hosts of staging, streaming command output:",
                command: "flotilla run playbooks/deploy.yml -i inventory/staging.yml "
                    + "-l canary -v"),
            Example(
                comment: "See what a rollout would change, without changing anything:",
                command: "flotilla run playbooks/rollout.yml -i inventory/production.yml "
                    + "--check --diff"),
        ])

    static let exec = CommandSpec(
        name: "exec",
        abstract: "Run one shell command on every selected host.",
        usage: [
            "flotilla exec [-i INVENTORY]... [-l PATTERN] [--forks N] [--become] "
                + "[--timeout DURATION] [--logs DIR] [--output auto|tty|plain|github|json] "
                + "[-v|-q] -- COMMAND...",
        ],
        arguments: [
            Argument(
                name: "COMMAND", help: "The command, run by the login shell of each host."),
        ],
        options: [
            .inventory, .limit, .forks,
            Option(long: "become", help: "Run the command with sudo (no password prompt)."),
            Option(
                long: "timeout", value: "DURATION",
                help: "Stop the command after this long (90s, 15m, 1h)."),
            .logs, .output, .verbose, .quiet, .help,
        ],
        passesRest: true,
        discussion: "The words of COMMAND are joined with spaces and read again by each "
            + "host's login shell, as with ssh; quote what the remote shell must not "
            + "expand. Output is shown unless -q. Options go before COMMAND.",
        examples: [
            Example(
                comment: "Show the uptime of every web host:",
                command: "flotilla exec -i inventory/staging.yml -l web -- uptime"),
            Example(
                comment: "Restart a service as root, giving up after a minute:",
                command: "flotilla exec -l web-1 --become --timeout 60s -- "
                    + "systemctl restart gunicorn"),
        ])

    static let ping = CommandSpec(
        name: "ping",
        abstract: "Connect, verify the host key and log in to each host; run nothing.",
        usage: ["flotilla ping [-i INVENTORY]... [-l PATTERN]"],
        options: [.inventory, .limit, .forks, .help],
        discussion: "Prints a table of hosts with address, host key status, authentication "
            + "result and time. Exits 3 when any host fails.",
        examples: [
            Example(
                comment: "Check that every staging host is reachable:",
                command: "flotilla ping -i inventory/staging.yml"),
        ])

    static let hosts = CommandSpec(
        name: "hosts",
        abstract: "List the hosts a pattern selects, with address, user and groups.",
        usage: ["flotilla hosts [-i INVENTORY]... [-l PATTERN] [--vars]"],
        options: [
            .inventory, .limit,
            Option(long: "vars", help: "Also show each host's merged variables."),
            .help,
        ],
        examples: [
            Example(
                comment: "Which web hosts are in staging, but not web-3?",
                command: "flotilla hosts -i inventory/staging.yml -l 'web,!web-3'"),
        ])

    static let validate = CommandSpec(
        name: "validate",
        abstract: "Check a playbook and its inventory without contacting any host.",
        usage: ["flotilla validate PLAYBOOK [-i INVENTORY]..."],
        arguments: [Argument(name: "PLAYBOOK", help: "The playbook file to check.")],
        options: [.inventory, .help],
        discussion: "Prints \"ok: N hosts, M stages, K steps\", or every problem as "
            + "file:line:column and exits 2.",
        examples: [
            Example(
                comment: "Check the deploy playbook against production's inventory:",
                command: "flotilla validate playbooks/deploy.yml -i inventory/production.yml"),
        ])

    static let trust = CommandSpec(
        name: "trust",
        abstract: "Show each host's key fingerprint and record it in known_hosts.",
        usage: [
            "flotilla trust [-i INVENTORY]... [-l PATTERN] [--fingerprint SHA256:...] [--yes]",
        ],
        options: [
            .inventory, .limit,
            Option(
                long: "fingerprint", value: "SHA256:...",
                help: "Record, without asking, a key with exactly this fingerprint."),
            Option(short: "-y", long: "yes", help: "Record new keys without asking."),
            .help,
        ],
        discussion: "Every key type the host offers is shown. New keys are recorded in "
            + "the host's first known_hosts file after a y/N question on a terminal. A "
            + "changed key is shown as CHANGED and never replaced; remove the old one with "
            + "the ssh-keygen -R command shown. Hosts behind a jump host are skipped: pin "
            + "their fingerprint in the inventory instead. Exits 3 when a host is left "
            + "without a trusted key, or has a changed or revoked one.",
        examples: [
            Example(
                comment: "Trust web-1 after checking its fingerprint with the provider:",
                command: "flotilla trust -l web-1 --fingerprint "
                    + "SHA256:Pv2e3nS1WbUeYj9Dq2QW0sdF8FLf6t0P3ka1SkQ3hRk"),
        ])

    static let sandbox = CommandSpec(
        name: "sandbox",
        abstract: "Start, stop or show a local fleet of OpenSSH servers on 127.0.0.1.",
        usage: [
            "flotilla sandbox up [N] [--inventory PATH]",
            "flotilla sandbox down",
            "flotilla sandbox status",
        ],
        arguments: [
            Argument(name: "up [N]", help: "Start N servers (default 3)."),
            Argument(name: "down", help: "Stop the servers."),
            Argument(name: "status", help: "Show whether the servers are running."),
        ],
        options: [
            Option(
                long: "inventory", value: "PATH",
                help: "Where `up` writes the inventory (default inventory/sandbox.yml); "
                    + "its known_hosts goes beside it."),
            .help,
        ],
        discussion: "The servers keep running after the command returns; their keys, "
            + "configs and logs live in .flotilla/sandbox/.",
        examples: [
            Example(
                comment: "Start five servers and ping them:",
                command: "flotilla sandbox up 5 && flotilla ping -i inventory/sandbox.yml"),
        ])

    static let version = CommandSpec(
        name: "version",
        abstract: "Print Flotilla's version and the libssh2 version it runs with.",
        usage: ["flotilla version"],
        options: [.help],
        examples: [Example(comment: "Include this in bug reports:", command: "flotilla version")])
}
