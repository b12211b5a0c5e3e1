#!/bin/sh
# arena-wrap.sh ROOT: the linker flags that route every arena_* function
# lib/extern.h declares to tests/fuzz/fuzz_arena.c (one malloc() per
# allocation, so AddressSanitizer sees overruns and uses after release);
# exits 1, saying which, when one has no __wrap_ there.
root=$1
here=$(dirname "$0")
wrap=-Wl
for f in $(grep -o '\barena_[a-z_]*(' "$root/lib/extern.h" | tr -d '(' |
    sort -u); do
	if ! grep -q "^__wrap_$f(" "$here/fuzz_arena.c"; then
		echo "tests/fuzz/fuzz_arena.c has no __wrap_$f" >&2
		exit 1
	fi
	wrap=$wrap,--wrap=$f
done
echo "$wrap"
