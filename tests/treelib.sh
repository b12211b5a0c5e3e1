# treelib.sh: build and dump directory trees from a small text format.
#
# One entry per line, paths relative to the sandbox root:
#   d PATH              a directory
#   f PATH [CONTENT]    a regular file holding CONTENT and a newline
#                       (an empty file when CONTENT is absent)
#   l PATH -> TARGET    a symbolic link whose text is TARGET
#   m MODE PATH         chmod MODE PATH (applied after everything else)
# Blank lines and lines starting with '#' are ignored.  Parents are made
# as needed.  tree_dump prints the same format, sorted, with no 'm' lines.

tree_make() {	# tree_make SPECFILE ROOT
	local spec=$1 root=$2 kind rest path content target mode
	local -a chmods=()
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in ''|'#'*) continue ;; esac
		kind=${line%% *}
		rest=${line#* }
		case $kind in
		d)	mkdir -p -- "$root/$rest" ;;
		f)	path=${rest%% *}
			if [ "$path" = "$rest" ]; then content=; else content=${rest#* }; fi
			mkdir -p -- "$(dirname -- "$root/$path")"
			if [ -n "$content" ]; then
				printf '%s\n' "$content" > "$root/$path"
			else
				: > "$root/$path"
			fi ;;
		l)	path=${rest%% -> *}
			target=${rest#* -> }
			mkdir -p -- "$(dirname -- "$root/$path")"
			ln -s -- "$target" "$root/$path" ;;
		m)	chmods+=("$rest") ;;
		*)	echo "tree_make: $spec: bad line: $line" >&2; return 1 ;;
		esac
	done < "$spec"
	for rest in "${chmods[@]}"; do
		mode=${rest%% *}
		chmod "$mode" -- "$root/${rest#* }"
	done
}

tree_dump() {	# tree_dump ROOT: print the tree under ROOT in tree_make format
	local root=$1 p rel
	(cd "$root" && find . -mindepth 1 -print | LC_ALL=C sort) |
	while IFS= read -r p; do
		rel=${p#./}
		if [ -L "$root/$rel" ]; then
			printf 'l %s -> %s\n' "$rel" "$(readlink -- "$root/$rel")"
		elif [ -d "$root/$rel" ]; then
			printf 'd %s\n' "$rel"
		elif [ -s "$root/$rel" ]; then
			printf 'f %s %s\n' "$rel" "$(head -c 200 -- "$root/$rel")"
		else
			printf 'f %s\n' "$rel"
		fi
	done
}
