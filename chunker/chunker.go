// Package chunker cuts the stream of valid records into batches of at most
// N rows, in file order, holding no more than one batch at a time.
package chunker

import (
	"fmt"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/importer"
)

// MaxSize is the most rows the import endpoint accepts in one call.
const MaxSize = api.MaxImportRows

// Batch is one import call's worth of valid records.
type Batch struct {
	// Seq is the 1-based batch number, as the report's batch column shows it.
	Seq int
	// Slot is the in-flight slot the batch was cut for (see settle.Sizes);
	// Alone marks a batch whose size is not its slot's (the last, short
	// batch; one sized by an earlier run), which is sent with nothing else
	// in flight so that its fate can always be told.
	Slot  int
	Alone bool
	// Records are the batch's rows in file order.
	Records []importer.Record
}

// FirstRow is the row number of the batch's first record.
func (b *Batch) FirstRow() int { return b.Records[0].Row }

// LastRow is the row number of the batch's last record.
func (b *Batch) LastRow() int { return b.Records[len(b.Records)-1].Row }

// Chunker accumulates records into batches. The zero value is not usable:
// call New.
type Chunker struct {
	size int
	seq  int
	cur  []importer.Record
}

// New returns a Chunker that makes batches of at most size rows.
func New(size int) (*Chunker, error) {
	if size < 1 || size > MaxSize {
		return nil, fmt.Errorf("batch size %d: must be between 1 and %d", size, MaxSize)
	}
	return &Chunker{size: size}, nil
}

// Size is the size of the batch being filled.
func (c *Chunker) Size() int { return c.size }

// Empty reports whether no record waits in the batch being filled.
func (c *Chunker) Empty() bool { return len(c.cur) == 0 }

// SetSize sets the size of the batch being filled (1..MaxSize); it is for
// the first record of a batch, before Add.
func (c *Chunker) SetSize(n int) error {
	if n < 1 || n > MaxSize {
		return fmt.Errorf("batch size %d: must be between 1 and %d", n, MaxSize)
	}
	c.size = n
	return nil
}

// Next is the sequence number the batch being filled will get.
func (c *Chunker) Next() int { return c.seq + 1 }

// Add appends r to the batch being filled and returns that batch once it
// holds size rows; otherwise it returns nil. The returned batch owns its
// slice: the Chunker starts a fresh one.
func (c *Chunker) Add(r importer.Record) *Batch {
	if c.cur == nil {
		c.cur = make([]importer.Record, 0, c.size)
	}
	c.cur = append(c.cur, r)
	if len(c.cur) < c.size {
		return nil
	}
	return c.cut()
}

// Flush returns the partly filled last batch, or nil when there is none.
func (c *Chunker) Flush() *Batch {
	if len(c.cur) == 0 {
		return nil
	}
	return c.cut()
}

func (c *Chunker) cut() *Batch {
	c.seq++
	b := &Batch{Seq: c.seq, Records: c.cur}
	c.cur = nil
	return b
}
