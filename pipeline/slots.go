package pipeline

import (
	"context"
	"sync"
)

// slots are the places a batch can be in flight in. Each slot has its own
// batch size (see settle.Sizes) and holds one batch from its first attempt
// until its outcome is known, so that the batches whose fate can be in
// doubt together always have sizes that tell them apart. A batch sent
// alone holds every slot.
type slots struct {
	mu     sync.Mutex
	cond   *sync.Cond
	busy   []bool
	inUse  int
	alone  bool
	limit  func() int // how many may be in use now; nil: all
	closed bool       // the context ended: wake and give up
}

func newSlots(n int, limit func() int) *slots {
	p := &slots{busy: make([]bool, n), limit: limit}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// allowed is how many slots may be in use now. The caller holds mu.
func (p *slots) allowed() int {
	if p.limit == nil {
		return len(p.busy)
	}
	return max(1, min(p.limit(), len(p.busy)))
}

// acquire takes slot want (or, with want < 0, the lowest free one); with
// alone it waits until no slot is in use and holds them all. It returns
// false when ctx ended first.
func (p *slots) acquire(ctx context.Context, want int, alone bool) (int, bool) {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.cond.Broadcast()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.closed || ctx.Err() != nil {
			return -1, false
		}
		if !p.alone {
			switch {
			case alone && p.inUse == 0:
				p.alone, p.inUse = true, 1
				return max(want, 0), true
			case !alone && p.inUse < p.allowed():
				i := p.free(want)
				if i >= 0 {
					p.busy[i] = true
					p.inUse++
					return i, true
				}
			}
		}
		p.cond.Wait()
	}
}

func (p *slots) free(want int) int {
	if want >= 0 {
		if want < len(p.busy) && !p.busy[want] {
			return want
		}
		return -1
	}
	for i, b := range p.busy {
		if !b {
			return i
		}
	}
	return -1
}

// waitOthers waits until slot i is the only one in use and then holds
// every slot (the last, short batch goes alone). It returns false when ctx
// ended first.
func (p *slots) waitOthers(ctx context.Context, i int) bool {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.cond.Broadcast()
	})
	defer stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.inUse > 1 {
		if p.closed || ctx.Err() != nil {
			return false
		}
		p.cond.Wait()
	}
	p.busy[i] = false
	p.alone = true
	return true
}

// release frees slot i (or every slot, for a batch sent alone).
func (p *slots) release(i int, alone bool) {
	p.mu.Lock()
	if alone {
		p.alone = false
	} else if i >= 0 && i < len(p.busy) {
		p.busy[i] = false
	}
	p.inUse--
	p.mu.Unlock()
	p.cond.Broadcast()
}
