package chunker_test

import (
	"testing"

	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
)

func TestChunkerBatchesInFileOrder(t *testing.T) {
	tests := []struct {
		name  string
		rows  int
		size  int
		sizes []int
	}{
		{"empty", 0, 2000, nil},
		{"one short batch", 3, 2000, []int{3}},
		{"exact multiple", 4000, 2000, []int{2000, 2000}},
		{"issue example 4500", 4500, 2000, []int{2000, 2000, 500}},
		{"size one", 3, 1, []int{1, 1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := chunker.New(tt.size)
			if err != nil {
				t.Fatal(err)
			}
			var got []*chunker.Batch
			for i := 0; i < tt.rows; i++ {
				if b := c.Add(importer.Record{Row: i + 2}); b != nil {
					got = append(got, b)
				}
			}
			if b := c.Flush(); b != nil {
				got = append(got, b)
			}
			if len(got) != len(tt.sizes) {
				t.Fatalf("got %d batches, want %d", len(got), len(tt.sizes))
			}
			next := 2
			for i, b := range got {
				if b.Seq != i+1 {
					t.Errorf("batch %d has Seq %d", i, b.Seq)
				}
				if len(b.Records) != tt.sizes[i] {
					t.Errorf("batch %d has %d rows, want %d", b.Seq, len(b.Records), tt.sizes[i])
				}
				if b.FirstRow() != next {
					t.Errorf("batch %d starts at row %d, want %d", b.Seq, b.FirstRow(), next)
				}
				next = b.LastRow() + 1
			}
			if c.Flush() != nil {
				t.Error("second Flush returned a batch")
			}
		})
	}
}

func TestChunkerBatchesDoNotShareMemory(t *testing.T) {
	c, _ := chunker.New(2)
	b1 := c.Add(importer.Record{Row: 1})
	b1 = c.Add(importer.Record{Row: 2})
	c.Add(importer.Record{Row: 3})
	b2 := c.Flush()
	if b1.Records[0].Row != 1 || b2.Records[0].Row != 3 {
		t.Fatalf("batches overlap: %v %v", b1.Records, b2.Records)
	}
}

func TestChunkerRejectsBadSize(t *testing.T) {
	for _, size := range []int{0, -1, 2001} {
		if _, err := chunker.New(size); err == nil {
			t.Errorf("New(%d) accepted", size)
		}
	}
}

func BenchmarkChunk1M(b *testing.B) {
	for b.Loop() {
		c, _ := chunker.New(chunker.MaxSize)
		for i := 0; i < 1_000_000; i++ {
			c.Add(importer.Record{Row: i + 2, Normalized: "13800138000"})
		}
		c.Flush()
	}
}
