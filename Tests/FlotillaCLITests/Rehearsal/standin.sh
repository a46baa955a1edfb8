# A stand-in for a program the musicsamples playbooks call (git, pip, python, pnpm, pm2,
# systemctl, nginx, certbot, curl, sqlite3, sudo), installed under the program's name in a
# folder the inventory puts first on PATH. The rehearsal writes ROOT=<host folder> above
# this text. Each call appends "name arguments" to $ROOT/calls.log (never stdin, where
# secrets travel). The call fails when $ROOT/.fail-<name> exists, and holds nothing or
# the commit checked out (a commit that breaks the build, say). Otherwise it imitates just
# enough of the real program for the playbooks to go on.
set -u
name=${0##*/}
printf '%s\n' "$name $*" >>"$ROOT/calls.log"
if [ -e "$ROOT/.fail-$name" ]; then
    only=$(cat "$ROOT/.fail-$name")
    if [ -z "$only" ] || [ "$only" = "$(cat "$ROOT/HEAD")" ]; then
        echo "stand-in $name: told to fail by $ROOT/.fail-$name" >&2
        # curl's code for an HTTP error; any non-zero code does for the others.
        exit 22
    fi
fi

case $name in
    sudo)
        # Drop sudo's options, then run the command as this user: stand-ins need no root.
        while [ $# -gt 0 ]; do
            case $1 in
                -l) exit 0 ;;
                -u | -g | -p) shift 2 ;;
                --) shift; break ;;
                -*) shift ;;
                *) break ;;
            esac
        done
        exec "$@"
        ;;
    git)
        [ "${1:-}" = -C ] && shift 2
        case "${1:-} ${2:-}" in
            "rev-parse HEAD") cat "$ROOT/HEAD" ;;
            "rev-parse "*) printf '%s\n' "${2%^\{commit\}}" ;;
            "checkout "*)
                for target in "$@"; do :; done
                printf '%s\n' "$target" >"$ROOT/HEAD"
                ;;
        esac
        ;;
    python)
        # `migrate --check` exits 1 while migrations are pending: say there are some.
        for argument in "$@"; do
            [ "$argument" = --check ] && exit 1
        done
        ;;
    sqlite3)
        case ${2:-} in
            .backup*)
                target=${2#.backup }
                target=${target//\'/}
                cp "$1" "$target"
                ;;
            PRAGMA*) echo ok ;;
        esac
        ;;
    pm2)
        [ "${1:-}" = pid ] && echo 4242
        ;;
    curl)
        # The URL: the last argument, or `url = "…"` from a config read on stdin (-K -).
        url='' upload='' head='' format=''
        while [ $# -gt 0 ]; do
            case $1 in
                -K) [ "$2" = - ] && url=$(sed -n 's/^url = "\(.*\)"$/\1/p'); shift 2 ;;
                -T) upload=$2; shift 2 ;;
                --head | -I) head=1; shift ;;
                -w) format=$2; shift 2 ;;
                -o | -X | -H | --resolve | --max-time) shift 2 ;;
                -*) shift ;;
                *) url=$1; shift ;;
            esac
        done
        blob=${url%%\?*}
        blob=$ROOT/blobs/${blob##*/}
        if [ -n "$upload" ]; then
            mkdir -p "$ROOT/blobs"
            stat -c %s "$upload" >"$blob"
            answer=201
        elif [ -n "$head" ]; then
            if [ -e "$blob" ]; then answer="200 $(cat "$blob")"; else answer="404 "; fi
        else
            # Anonymous visitors of the site root are sent to the login page.
            path=${url#*://*/}
            if [ "$path" = "$url" ] || [ -z "$path" ]; then
                host=${url#*://}
                answer="302 https://${host%%/*}/login/"
            else
                answer="200 "
            fi
        fi
        [ -n "$format" ] && printf '%s' "$answer"
        ;;
esac
exit 0
