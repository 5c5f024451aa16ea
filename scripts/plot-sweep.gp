# The picture of the snapshot scaling sweep (issue 11): time of one snapshot against members,
# against resident memory and against reserved address space, from the sweep.tsv that
# `make bench-snapshot-sweep` writes (columns: series family members size_mib sparse_gib
# method median_ms). Used by `make bench-snapshot-plot`:
#   gnuplot -e "data='build/bench/sweep.tsv'; out='x.svg'; title='...'" scripts/plot-sweep.gp
if (!exists("data")) data = 'build/bench/sweep.tsv'
if (!exists("out")) out = 'build/bench/sweep.svg'
if (!exists("title")) title = 'cowstat snapshot scaling'

set terminal svg size 1200,900 dynamic enhanced font 'sans,13' background rgb 'white'
set output out
set datafile separator "\t"
set key top left opaque box
set grid
set logscale y
set ylabel 'time per snapshot (ms, median)'
set style data linespoints

# rows SERIES FAMILY METHOD: the rows of one line of the picture, as "x ms".
rows(s, f, m, x) = sprintf("< awk -F'\t' '$1==\"%s\" && $2==\"%s\" && $6==\"%s\" {print $%d \"\\t\" $7}' '%s'", s, f, m, x, data)

set multiplot layout 2,2 title title font ',15'

set key bottom right
set title 'members (1 MiB each, 10% rewritten by each child)'
set xlabel 'members'
set logscale x 2
plot rows('members', 'fork', 'module', 3) t 'module, forked' lw 2, \
     rows('members', 'exec', 'module', 3) t "module, exec'd" lw 2, \
     rows('members', 'fork', 'tool', 3) t 'cowstat tree, forked', \
     rows('members', 'fork', 'scan', 3) t 'pagemap scan, forked', \
     rows('members', 'fork', 'smem', 3) t 'smem, forked', \
     rows('members', 'exec', 'scan', 3) t "pagemap scan, exec'd", \
     rows('members', 'exec', 'smem', 3) t "smem, exec'd"

set key top left
set title 'resident memory (16 forked members, shared)'
set xlabel 'MiB per member'
plot rows('resident', 'fork', 'module', 4) t 'module' lw 2, \
     rows('resident', 'fork', 'scan', 4) t 'pagemap scan', \
     rows('resident', 'fork', 'smem', 4) t 'smem'

set title 'reserved, untouched address space (64 members x 16 MiB)'
set xlabel 'GiB reserved per member (MAP\_NORESERVE)'
unset logscale x
# 0 cannot sit on a log axis: the reservations are shown as categories.
plot rows('sparse', 'fork', 'module', 5) u 0:2:xtic(1) t 'module, forked' lw 2, \
     rows('sparse', 'exec', 'module', 5) u 0:2:xtic(1) t "module, exec'd" lw 2

set title 'whole system, top and tree at 10,000 processes'
set key off
set style data histograms
set style fill solid 0.6
set boxwidth 0.6
set ylabel 'ms (log scale)'
set xlabel ''
set xtics rotate by -25 font ',10'
set yrange [1:*]
# One top refresh = (top -n 11 - top -n 1) / 10 - the 50 ms delay.
bars = "< awk -F'\t' '$1==\"system\" && $2==\"tree1\" {print \"tree 1 (\" $3 \" procs)\\t\" $7} $1==\"members\" && $2==\"fork\" && $3==1024 && $6==\"module\" {print \"snapshot, 1,024\\t\" $7} $1==\"members\" && $2==\"fork\" && $3==1024 && $6==\"tool\" {print \"cowstat tree, 1,024\\t\" $7} $1==\"top\" {t[$6]=$7; n=$3} END {if (t[\"top11\"] != \"\") printf \"top refresh, %d records\\t%.3f\\n\", n, (t[\"top11\"] - t[\"top1\"]) / 10 - 50; if (t[\"module\"] != \"\") print \"snapshot, 10,000\\t\" t[\"module\"]; if (t[\"tool\"] != \"\") print \"cowstat tree, 10,000\\t\" t[\"tool\"]}' '".data."'"
plot bars u 2:xtic(1) t ''

unset multiplot
