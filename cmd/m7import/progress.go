package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/m7import/m7import/pipeline"
)

// progressView shows a run's progress on stderr: a bar on a terminal,
// a plain line every few seconds otherwise (nightly jobs), nothing with
// --quiet.
type progressView struct {
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	log   io.Writer
	name  string
	every time.Duration
	last  time.Time
	total int // known total of valid rows, or 0 while unknown
	now   func() time.Time
}

func newProgressView(w io.Writer, terminal, quiet bool, name string, dryRun bool) *progressView {
	p := &progressView{name: name, every: 5 * time.Second, now: time.Now}
	if quiet {
		return p
	}
	if !terminal {
		p.log = w
		p.last = p.now()
		return p
	}
	verb := "sending"
	if dryRun {
		verb = "checking"
	}
	p.bar = progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(w), // never stdout: it carries --json
		progressbar.OptionSetDescription(verb+" "+name),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	return p
}

// update takes a pipeline snapshot; safe for concurrent use.
func (p *progressView) update(s pipeline.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.bar != nil:
		if s.Valid > p.bar.GetMax() {
			p.bar.ChangeMax(s.Valid)
		}
		p.bar.Set(s.Done)
	case p.log != nil:
		if now := p.now(); now.Sub(p.last) >= p.every {
			p.last = now
			fmt.Fprintf(p.log, "%s: %d rows read, %d of %d valid rows done\n", p.name, s.Read, s.Done, s.Valid)
		}
	}
}

// finish removes the bar before the summary is printed.
func (p *progressView) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Clear()
	}
}
