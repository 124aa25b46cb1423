package importer

import (
	"context"
	"sync"
)

// prefetchBatch is how many rows the reading goroutine hands over at once.
const prefetchBatch = 512

// rowBatch is a run of rows read ahead, with their numbers normalized.
type rowBatch struct {
	rows  []int
	ends  []int // end of each row's cells in cells
	cells []cell
	nums  []numResult
	err   error // after the rows
}

// numResult is a row's number cell as the reading goroutine judged it.
type numResult struct {
	norm  string
	err   error
	blank bool
	from  int // 1 + index in Reader.fallback of the cell used; 0: the number cell
}

// rowView is one prefetched row.
type rowView struct {
	row   int
	cells []cell
	num   numResult
}

// prefetcher runs a rowSource in its own goroutine, which also skips blank
// rows' work and normalizes each number, so that parsing (for XLSX,
// inflating and scanning the XML) and normalizing overlap with
// deduplicating and the caller's own work (writing the report) on the
// caller's goroutine: the reader uses both cores.
// Memory stays bounded: at most a few batches are in flight.
type prefetcher struct {
	src    rowSource
	judge  func([]cell) numResult // runs on the judging goroutine
	raw    chan *rowBatch         // read, numbers not yet judged
	ready  chan *rowBatch
	free   chan *rowBatch
	stop   chan struct{}
	wg     sync.WaitGroup
	cur    *rowBatch
	i      int
	closed bool
}

func newPrefetcher(ctx context.Context, src rowSource, judge func([]cell) numResult) *prefetcher {
	p := &prefetcher{
		src:   src,
		judge: judge,
		raw:   make(chan *rowBatch, 2),
		ready: make(chan *rowBatch, 2),
		free:  make(chan *rowBatch, 4),
		stop:  make(chan struct{}),
	}
	p.wg.Add(2)
	go p.run(ctx)
	go p.judgeAll()
	return p
}

// judgeAll normalizes the numbers of each batch read, on a goroutine of its
// own: parsing and normalizing are each about as costly as what the caller
// does with the rows, so three stages keep both cores busy.
func (p *prefetcher) judgeAll() {
	defer p.wg.Done()
	for {
		var b *rowBatch
		select {
		case b = <-p.raw:
		case <-p.stop:
			return
		}
		start := 0
		for _, end := range b.ends {
			b.nums = append(b.nums, p.judge(b.cells[start:end]))
			start = end
		}
		last := b.err != nil // b is the caller's once sent
		select {
		case p.ready <- b:
		case <-p.stop:
			return
		}
		if last {
			return
		}
	}
}

func (p *prefetcher) run(ctx context.Context) {
	defer p.wg.Done()
	for {
		var b *rowBatch
		select {
		case b = <-p.free:
			b.rows, b.ends, b.cells, b.nums, b.err = b.rows[:0], b.ends[:0], b.cells[:0], b.nums[:0], nil
		default:
			b = &rowBatch{}
		}
		for len(b.rows) < prefetchBatch {
			row, cells, err := p.src.next()
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				b.err = err
				break
			}
			b.rows = append(b.rows, row)
			b.cells = append(b.cells, cells...)
			b.ends = append(b.ends, len(b.cells))
		}
		last := b.err != nil // b is the next stage's once sent
		select {
		case p.raw <- b:
		case <-p.stop:
			return
		}
		if last {
			return
		}
	}
}

func (p *prefetcher) next() (rowView, error) {
	for p.cur == nil || p.i >= len(p.cur.rows) {
		if p.cur != nil {
			if p.cur.err != nil {
				return rowView{}, p.cur.err
			}
			select {
			case p.free <- p.cur:
			default:
			}
		}
		p.cur, p.i = <-p.ready, 0
	}
	start := 0
	if p.i > 0 {
		start = p.cur.ends[p.i-1]
	}
	v := rowView{row: p.cur.rows[p.i], cells: p.cur.cells[start:p.cur.ends[p.i]], num: p.cur.nums[p.i]}
	p.i++
	return v, nil
}

func (p *prefetcher) close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	close(p.stop)
	p.wg.Wait()
	return p.src.close()
}
