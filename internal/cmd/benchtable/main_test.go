package main

import (
	"strings"
	"testing"
)

func TestTargetsJudgeWallRatioRSSAndRate(t *testing.T) {
	recs, err := read(strings.NewReader(`
{"label":"csv-baseline","what":"csv","rows":1000000,"runs":3,"median_wall_s":0.2,"max_rss_kib":8000}
{"label":"validate-csv-r2","what":"v2","rows":1000000,"runs":3,"median_wall_s":0.7,"max_rss_kib":40000}
{"label":"validate-csv-r1","what":"v1","rows":1000000,"runs":3,"median_wall_s":0.9,"max_rss_kib":40000}
{"label":"import-csv","what":"imp","rows":1000000,"runs":3,"median_wall_s":1.7,"max_rss_kib":150000}
{"label":"rate-cauto","what":"rate","rows":20000,"runs":1,"median_wall_s":21}
{"label":"rate-cauto","calls":201,"processed":200,"refused_429":0,"span_s":20.1,"achieved_rate":9.9,"max_in_1s":12,"rate":10,"burst":1}
`))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	failed := write(&out, recs)
	want := map[string]string{
		"| v2 |":   "| PASS |",            // 3.5× ≤ 4×, 41 MB ≤ 50 MB
		"| v1 |":   "FAIL (wall 4.5×) |",  // 4.5× > 4×
		"| imp |":  "FAIL (RSS 154 MB) |", // 1.9× ≤ 2×, but RSS
		"| rate |": "FAIL (12 in 1 s) |",  // merged record: 99.5% but too many in a second
	}
	for _, line := range strings.Split(out.String(), "\n") {
		for row, result := range want {
			if strings.HasPrefix(line, row) {
				if !strings.HasSuffix(line, result) {
					t.Errorf("row %s: %s\nwant it to end %s", row, line, result)
				}
				delete(want, row)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("rows missing: %v\n%s", want, out.String())
	}
	if failed != 3 {
		t.Errorf("failed = %d, want 3", failed)
	}
}
