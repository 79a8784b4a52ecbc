# bench/lib/results.sh — recording results and printing tables (sourced).
#
# result NAME UNIT HEARTH BASELINE BASELINE_NAME appends one row to
# $OUT/results.tsv; report.sh turns the rows into bench/out/results.json.
# ratio = hearth / baseline ("" when either side is missing or 0).
# Tables are printed as the numbers come in, one per section.

ratio_of() { # hearth baseline
	awk -v h="$1" -v b="$2" 'BEGIN { if (h == "" || b == "" || b + 0 == 0) print ""; else printf "%.3f", h / b }'
}

result() { # name unit hearth baseline baseline_name
	_r=$(ratio_of "$3" "$4")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$_r" >>"$OUT/results.tsv"
}

section() { # title
	printf '\n== %s ==\n' "$1"
}

table_head() {
	printf '  %-40s %-6s %12s %12s  %-16s %7s\n' metric unit hearth baseline "baseline is" ratio
}

# Record and print one row.
row() { # name unit hearth baseline baseline_name
	result "$@"
	printf '  %-40s %-6s %12s %12s  %-16s %7s\n' "$1" "$2" "${3:--}" "${4:--}" "${5:--}" \
		"$(ratio_of "$3" "$4")"
}

# Print a row that has no baseline (recorded with an empty baseline).
row1() { # name unit value
	row "$1" "$2" "$3" "" ""
}
