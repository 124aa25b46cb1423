package sim_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

// BenchmarkImport1M pushes 1,000,000 rows (500 calls of 2000) through the
// client and the simulator over HTTP, half of them duplicates under rule 0.
func BenchmarkImport1M(b *testing.B) {
	batches := make([][]byte, 500)
	for i := range batches {
		rows := make([]api.ImportRow, api.MaxImportRows)
		for j := range rows {
			n := 13000000000 + (i*api.MaxImportRows+j)%500000
			rows[j] = api.ImportRow{Name: "客户", Number: strconv.Itoa(n), Remark: "bench"}
		}
		body, err := api.MarshalImport(api.ImportRequest{TaskID: "placeholder", ImportData: rows})
		if err != nil {
			b.Fatal(err)
		}
		batches[i] = body
	}
	for b.Loop() {
		s := sim.New(sim.Config{})
		ts := httptest.NewServer(s)
		c, err := api.New(api.Config{BaseURL: ts.URL, AppKey: sim.DevAppKey, Secret: sim.DevSecret})
		if err != nil {
			b.Fatal(err)
		}
		id := s.CreateTask("bench", "2000", "2001")
		for _, body := range batches {
			body = []byte(replacePlaceholder(string(body), id))
			if _, err := c.Post(context.Background(), api.PathImport, body, nil); err != nil {
				b.Fatal(err)
			}
		}
		if n := len(s.Numbers(id)); n != 500000 {
			b.Fatalf("task holds %d numbers, want 500000", n)
		}
		ts.Close()
	}
}

func replacePlaceholder(s, id string) string {
	return strings.Replace(s, `"placeholder"`, strconv.Quote(id), 1)
}
