# chart.gp: bars of the median time of each command, hot and cold.
# gnuplot -e "datafile='chart.dat'; outfile='bench.png'; pause='50 ms'" chart.gp
# chart.dat: one line per command: name hot_ms cold_ms

set terminal png size 1000,560 font ",11"
set output outfile
set title "run /bin/true: median wall time (log scale)"
set ylabel "milliseconds"
set logscale y
set yrange [0.05:*]
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 nomirror
set key top left
plot datafile using 2:xtic(1) title "hot (back to back)" lc rgb "#3b6ea5", \
     "" using 3 title "cold (".pause." pause first)" lc rgb "#d9822b"
