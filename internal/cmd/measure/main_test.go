package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRunRecordsEveryRunAndTheRunNumber(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "r.jsonl")
	out := filepath.Join(dir, "out")
	var stderr bytes.Buffer
	code := run([]string{"-n", "2", "-label", "echo", "-rows", "10", "-record", rec, "-stdout", out, "--", "echo", "run {run}"}, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Label != "echo" || r.Runs != 2 || len(r.WallS) != 2 || r.MaxRSSKiB <= 0 || r.Rows != 10 {
		t.Errorf("record %+v", r)
	}
	if got, _ := os.ReadFile(out); string(got) != "run 2\n" {
		t.Errorf("last run's stdout %q, want %q", got, "run 2\n")
	}
}

func TestRunFailsOnAnUnexpectedExitCode(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"-n", "1", "-label", "f", "-record", filepath.Join(t.TempDir(), "r"), "--", "false"}, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; %s", code, stderr.String())
	}
}
