# Print the URI of the first enabled "deb" entry for suite `suite` in apt
# source files (deb822 *.sources and one-line *.list), skipping the
# project's own viommu.sources. Used by debian_mirror() in common.sh.
function stanza_end() {
	if (types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ ("[ \t]" suite "[ \t]") &&
	    enabled !~ /^[ \t]*no[ \t]*$/ && uris != "") {
		split(uris, u, /[ \t]+/)
		print u[1]
		found = 1
		exit
	}
	types = suites = uris = enabled = ""
}
FNR == 1 { if (NR > 1) stanza_end(); skip = FILENAME ~ /\/viommu\.sources$/
	deb822 = FILENAME ~ /\.sources$/ }
skip { next }
/^[ \t]*#/ { next }
deb822 && /^[ \t]*$/ { stanza_end(); next }
deb822 {
	key = tolower($1); sub(/:$/, "", key)
	val = $0; sub(/^[^:]*:[ \t]*/, "", val)
	if (key == "types") types = val
	else if (key == "uris") uris = val
	else if (key == "suites") suites = val
	else if (key == "enabled") enabled = val
	next
}
$1 == "deb" {
	i = 2
	if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
	if ($(i + 1) == suite) { print $i; found = 1; exit }
}
END { if (!found) stanza_end() }
