// Package mapr is DTail's mapreduce engine (spec §4.12, §5.9, §6.6): the map
// side that turns log lines into per-group partial aggregates and serializes
// them as AGGREGATE messages, and the reduce side that merges the partials of
// many servers into one result, renders it as the terminal table and writes
// it as a CSV outfile.
//
// Map side: an Aggregate holds the partial sets of one session. Each file
// reader gets its own Mapper (with its own log format parser, which is per
// file for csv), so readers never contend with each other; Serialize swaps
// out every mapper's groups, merges them and returns one message per group.
// These are deltas: after Serialize the aggregate starts empty.
//
// Reduce side: a Result merges AGGREGATE messages. Sums add, so an avg is
// Σsum/Σsamples over all servers. Rows computes the printed value strings
// (count %d, last raw, all else %f), RenderTable and WriteCSV format them.
//
// Beyond DTail 4.x the package has a mergeable quantile sketch (Sketch,
// DDSketch-style, 1 % relative error) for p50/p90/p95/p99/quantile; its
// partials merge exactly, so a quantile over three servers is the quantile
// of the sketch built from all lines at once.
//
// The only I/O is WriteCSV. The package holds no mutable package state.
package mapr
