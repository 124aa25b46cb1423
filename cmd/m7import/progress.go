package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/m7import/m7import/i18n"
	"github.com/m7import/m7import/pipeline"
)

// progressView shows a run's progress on stderr: a counter on a terminal,
// a plain line every few seconds otherwise (nightly jobs), nothing with
// --quiet.
//
// What it shows never goes backwards and always adds up. The pipeline's
// snapshots come from several goroutines (a late one may carry older
// counts), its count of valid rows is sampled every few thousand rows
// (so rows done may run ahead of it), and the number of valid rows is
// only known once the whole file has been read, which the snapshots do
// not say. So the view keeps the largest counts seen, never shows more
// rows done than valid, and counts rows sent rather than claiming a
// percentage of a total it does not know.
type progressView struct {
	mu       sync.Mutex
	terminal bool
	w        io.Writer
	bar      *progressbar.ProgressBar
	log      io.Writer
	name     string
	dryRun   bool
	lang     i18n.Lang // of the bar's words
	every    time.Duration
	last     time.Time
	now      func() time.Time
	// seen is the largest of each count so far.
	seen pipeline.Progress
}

func newProgressView(w io.Writer, terminal, quiet bool, name string, dryRun bool) *progressView {
	p := &progressView{name: name, dryRun: dryRun, every: 5 * time.Second, now: time.Now}
	if quiet {
		return p
	}
	if !terminal {
		p.log = w
		p.last = p.now()
		return p
	}
	p.terminal, p.w = true, w
	return p
}

// newBar starts the terminal's bar at the first snapshot: a bar of the
// valid rows when the pass before sending counted them (its total never
// moves, so it never jumps backwards), an open-ended counter otherwise
// (a bar of a total still growing would jump back, 99% → 66%).
func (p *progressView) newBar(total int) *progressbar.ProgressBar {
	desc := i18n.T(p.lang, i18n.ProgressSending, p.name)
	if p.dryRun {
		desc = i18n.T(p.lang, i18n.ProgressChecking, p.name)
	}
	max := -1
	if total > 0 && !p.dryRun {
		max = total
	}
	return progressbar.NewOptions(max,
		progressbar.OptionSetWriter(p.w), // never stdout: it carries --json
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(i18n.T(p.lang, i18n.ProgressRows)),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

// advance folds a snapshot into the counts seen and returns them: each the
// largest so far, and valid at least done (rows done are valid rows).
func (p *progressView) advance(s pipeline.Progress) pipeline.Progress {
	p.seen.Read = max(p.seen.Read, s.Read)
	p.seen.Done = max(p.seen.Done, s.Done)
	p.seen.Valid = max(p.seen.Valid, s.Valid, p.seen.Done)
	p.seen.Read = max(p.seen.Read, p.seen.Valid)
	p.seen.Total = max(p.seen.Total, s.Total)
	if p.seen.Total > 0 {
		p.seen.Done = min(p.seen.Done, p.seen.Total)
	}
	return p.seen
}

// update takes a pipeline snapshot; safe for concurrent use.
func (p *progressView) update(s pipeline.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.advance(s)
	if p.terminal && p.bar == nil {
		p.bar = p.newBar(s.Total)
	}
	switch {
	case p.bar != nil:
		n := c.Done
		if p.dryRun {
			n = c.Read
		}
		p.bar.Set(n)
	case p.log != nil:
		if now := p.now(); now.Sub(p.last) >= p.every {
			p.last = now
			fmt.Fprintln(p.log, p.line(c))
		}
	}
}

// line is the log line of counts c.
func (p *progressView) line(c pipeline.Progress) string {
	switch {
	case p.dryRun:
		return i18n.T(p.lang, i18n.ProgressChecked, p.name, c.Read, c.Valid)
	case c.Total > 0:
		return i18n.T(p.lang, i18n.ProgressOfTotal, p.name, c.Done, c.Total, c.Done*100/c.Total)
	}
	return i18n.T(p.lang, i18n.ProgressSoFar, p.name, c.Read, c.Valid, c.Done)
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
