package pipeline_test

import (
	"bufio"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/internal/leadgen"
	"github.com/m7import/m7import/pipeline"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/upload"
)

// benchRows is the file size of BenchmarkImport1M: 1,000,000 rows unless
// M7_BENCH_ROWS says otherwise (e.g. M7_BENCH_ROWS=100000 for a quick look).
func benchRows(b *testing.B) int {
	s := os.Getenv("M7_BENCH_ROWS")
	if s == "" {
		return 1_000_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("M7_BENCH_ROWS=%q: want a positive number of rows", s)
	}
	return n
}

// BenchmarkImport1M is a whole import as `m7import import --rate 0` runs
// it: a generated 1,000,000-row CSV read and normalized, cut into 2000-row
// batches, sent signed over loopback HTTP to the simulator with no rate
// limit (rule 1, concurrency 2), and every row's outcome written to a CSV
// report. The simulator shares the process and its two cores, as it shares
// the machine in scripts/bench. Generating the file is not timed.
func BenchmarkImport1M(b *testing.B) {
	rows := benchRows(b)
	dir := b.TempDir()
	in := filepath.Join(dir, "leads.csv")
	writeLeads(b, in, rows)
	ctx := context.Background()
	for b.Loop() {
		srv := sim.New(sim.Config{})
		ts := httptest.NewServer(srv)
		c, err := api.New(api.Config{BaseURL: ts.URL, AppKey: sim.DevAppKey, Secret: sim.DevSecret})
		if err != nil {
			b.Fatal(err)
		}
		id := srv.CreateTask("bench", "2000", "2001")
		up, err := upload.New(c, upload.Config{TaskID: id, Rule: api.RuleThisTask, MaxRetries: 5})
		if err != nil {
			b.Fatal(err)
		}
		rd, err := importer.Open(ctx, in, importer.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rep, err := reports.Create(filepath.Join(dir, "leads.results.csv"), reports.CSV)
		if err != nil {
			b.Fatal(err)
		}
		res, err := pipeline.Run(ctx, rd, rep, pipeline.Options{BatchSize: api.MaxImportRows, Sender: up, Concurrency: 2})
		if err != nil {
			b.Fatal(err)
		}
		if err := rep.Commit(); err != nil {
			b.Fatal(err)
		}
		rd.Close()
		ts.Close()
		if res.Rows != rows || res.Imported != res.Valid || res.Imported == 0 || res.Stopped != nil {
			b.Fatalf("counts %+v, stopped %v", res.Counts, res.Stopped)
		}
		if n := len(srv.Numbers(id)); n != res.Imported {
			b.Fatalf("task holds %d numbers, %d reported imported", n, res.Imported)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func writeLeads(b *testing.B, path string, rows int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := leadgen.WriteCSV(w, leadgen.Config{Rows: rows, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
