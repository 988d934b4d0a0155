package mapr_test

import (
	"fmt"
	"strings"

	"github.com/dtail-go/dtail/internal/logformat"
	"github.com/dtail-go/dtail/internal/mapr"
	"github.com/dtail-go/dtail/internal/query"
)

// Two servers aggregate their lines; the client merges the partials and
// prints the table.
func Example() {
	raw := "from STATS select action,count($line),avg(latency_ms) group by action"
	q, _ := query.Parse(raw)
	result := mapr.NewResult(q)
	for host, lines := range map[string][]string{
		"web1": {"GET|100", "GET|300", "PUT|50"},
		"web2": {"GET|200"},
	} {
		p, _ := logformat.New("default", logformat.Options{Hostname: host})
		agg := mapr.NewAggregate(q, p)
		for _, l := range lines {
			var action, ms string
			fmt.Sscanf(l, "%3s|%s", &action, &ms)
			agg.Add([]byte("INFO|1002-071143|1|x.go:1|8|10|6|1.5|1m|MAPREDUCE:STATS|action=" + action + "|latency_ms=" + ms))
		}
		for _, msg := range agg.Serialize(host) {
			result.Merge(msg)
		}
	}
	table := mapr.RenderTable(raw, q, result.Rows(), mapr.DefaultTerminalLimit, nil)
	// Cells end in a blank; show line ends as cat -A does.
	fmt.Print(strings.ReplaceAll(table.String(), "\n", "$\n"))
	// Output:
	// from STATS select action,count($line),avg(latency_ms) group by action$
	//  action | count($line) | avg(latency_ms) $
	// --------|--------------|-----------------$
	//     GET |            3 |      200.000000 $
	//     PUT |            1 |       50.000000 $
	// $
}
