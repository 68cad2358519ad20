#!/bin/sh
# silent-assertions.sh FILE.bats|DIR... — finds assertions bats cannot fail on. bats runs a test body
# under `set -e`, which ignores the status of a command negated with `!` and of every command of
# an && list but the last; so inside a test, before its last line,
#   ! grep -q x file             never fails the test (use: run ! grep -q x file)
#   [ a ] && [ b ]                fails it only when [ b ] fails (use two lines)
# Lines inside if/while/until conditions and `cmd && var=...` assignments are not assertions and
# are not reported. Exit 1 and "FILE:LINE: text" for each one found.
status=0
for a in "$@"; do
        if [ -d "$a" ]; then set -- "$@" "$a"/*.bats; fi
done
for f in "$@"; do
        [ -f "$f" ] || continue
        awk -v file="$f" '
                /^@test / { intest = 1; n = 0; next }
                intest && /^}/ {
                        for (i = 1; i < n; i++) {
                                l = text[i]
                                if (l ~ /^[ \t]*! /)
                                        bad[++nb] = file ":" line[i] ": " l
                                else if (l ~ /^[ \t]*\[[^|]*\][ \t]*&&[ \t]*\[[^|]*\][ \t]*$/)
                                        bad[++nb] = file ":" line[i] ": " l
                        }
                        intest = 0
                        next
                }
                intest && NF && $1 !~ /^#/ { n++; text[n] = $0; line[n] = FNR }
                END { for (i = 1; i <= nb; i++) print bad[i]; exit nb > 0 }' "$f" || status=1
done
exit $status
