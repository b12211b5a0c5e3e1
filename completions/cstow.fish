# fish completion for cstow(1): options, option values, and package
# names, the top-level directories of the stow directory in effect (the
# -d/--dir given on the command line, else $STOW_DIR, else the current
# directory) whose names do not begin with a dot.
#
# Install as $(PREFIX)/share/fish/vendor_completions.d/cstow.fish.

# The stow directory in effect for the words before the cursor.
function __cstow_stow_dir
    set -l words (commandline -opc)
    set -l dir
    set -l n (count $words)
    set -l i 2
    while test $i -le $n
        set -l w $words[$i]
        switch $w
            case --
                break
            case -d --dir --di
                set i (math $i + 1)
                if test $i -le $n
                    set dir $words[$i]
                end
            case '--dir=*'
                set dir (string replace -- --dir= '' $w)
            case '--*'
            case '-*'
                # A bundle: -nvd DIR, -dDIR.
                set -l m (string match -r -- '^-[^-dt]*d(.*)$' $w)
                if test (count $m) -ge 1
                    if test -n "$m[2]"
                        set dir $m[2]
                    else
                        set i (math $i + 1)
                        if test $i -le $n
                            set dir $words[$i]
                        end
                    end
                else if string match -qr -- '^-[^-dt]*t$' $w
                    set i (math $i + 1)
                end
        end
        set i (math $i + 1)
    end
    if test -n "$dir"
        string replace -r -- '^~(?=/|$)' $HOME $dir
    else if test -n "$STOW_DIR"
        echo $STOW_DIR
    else
        echo .
    end
end

function __cstow_packages
    set -l dir (__cstow_stow_dir)
    for d in $dir/*/
        set -l name (basename -- $d)
        string match -q -- '.*' $name; and continue
        echo $name
    end
end

# Packages wherever a word is not an option or an option's value.
complete -c cstow -f -a '(__cstow_packages)'

complete -c cstow -s d -l dir -x -a '(__fish_complete_directories)' -d 'Set the stow directory'
complete -c cstow -s t -l target -x -a '(__fish_complete_directories)' -d 'Set the target directory'
complete -c cstow -s S -l stow -d 'Stow the packages that follow'
complete -c cstow -s D -l delete -d 'Unstow the packages that follow'
complete -c cstow -s R -l restow -d 'Unstow, then stow again'
complete -c cstow -l ignore -x -d 'Ignore files ending in this Perl regex'
complete -c cstow -l defer -x -d 'Do not stow files already stowed from another package'
complete -c cstow -l override -x -d 'Stow files even if stowed from another package'
complete -c cstow -l adopt -d 'Move files in the way into the package, then link them'
complete -c cstow -l no-folding -d 'Make directories instead of folding them into links'
complete -c cstow -l dotfiles -d 'Stow dot-X entries as .X'
complete -c cstow -s p -l compat -d 'Unstow by walking the target'
complete -c cstow -l all -d 'Every package of the stow directory'
complete -c cstow -l package-target -x -a '(__cstow_packages)=' -d 'Stow PKG into DIR (PKG=DIR)'
complete -c cstow -l conflict -x -a 'fail adopt backup' -d 'What to do with files in the way'
complete -c cstow -l replace -r -d 'Move PATH aside into the vault, then stow'
complete -c cstow -l backup-dir -x -a '(__fish_complete_directories)' -d 'Keep the vault runs in DIR'
complete -c cstow -l restore -d 'Put a vault run back (--restore=RUN)'
complete -c cstow -l config -r -F -d 'Read FILE instead of cstow.conf'
complete -c cstow -l no-config -d 'Read no cstow.conf'
complete -c cstow -l no-wait -d 'Fail at once if another run holds the lock'
complete -c cstow -l set-aside-journal -d "Keep a killed run's journal that cannot be undone aside"
complete -c cstow -l check -d 'Say whether each package is stowed'
complete -c cstow -l badlinks -d 'List dangling symlinks in the target'
complete -c cstow -l aliens -d 'List files in the target that are not symlinks'
complete -c cstow -l list -d 'List the packages the target has links into'
complete -c cstow -l format -x -a 'text json' -d 'Output format'
complete -c cstow -s n -l no -l simulate -d 'Show what would happen; change nothing'
complete -c cstow -s v -l verbose -d 'More output (--verbose=N sets 0..5)'
complete -c cstow -s V -l version -d 'Print the program and library versions'
complete -c cstow -s h -l help -d 'Print the help'
