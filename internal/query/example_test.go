package query_test

import (
	"fmt"

	"github.com/dtail-go/dtail/internal/query"
)

func Example() {
	q, err := query.Parse(`from stats select count($line), avg($goroutines) where $severity eq "INFO" set $h = maskdigits($time) group by $h rorder by count($line) desc`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q)
	fmt.Println(q.TableRegex())
	fmt.Println(q.Storages(), q.GroupFields(), q.Order.Descending())

	fields := map[string]string{"$line": "…", "$severity": "INFO", "$time": "1002-071949", "$goroutines": "12"}
	if q.Match(fields) { // where runs before set
		q.Apply(fields)
		fmt.Println(q.GroupKey(fields))
	}

	_, err = query.Parse("select cnt($line)")
	fmt.Println(err)
	// Output:
	// select count($line), avg($goroutines) from STATS where $severity eq "INFO" set $h = maskdigits($time) group by $h rorder by count($line)
	// \|MAPREDUCE:STATS\|
	// [count($line) avg($goroutines)] [$h] false
	// ....-......
	// query:1:8: Unknown aggregation in 'select' clause: cnt; did you mean 'count'?
}

func ExampleUnknownVariables() {
	q, _ := query.Parse("from STATS select max($foo) group by $hostname")
	for _, w := range query.UnknownVariables(q, "default") {
		fmt.Println(w)
	}
	// Output:
	// warning: $foo is not a known variable for log format "default"; did you mean bareword foo?
}
