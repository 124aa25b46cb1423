package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The event names of an import's stream (GET /api/imports/{id}/events).
const (
	// EventProgress is a snapshot of a running import; a subscriber that
	// lags behind gets only the latest.
	EventProgress = "progress"
	// EventDone is the last event, carrying the import's summary.
	EventDone = "done"
)

// feedKept bounds the events a Feed remembers for reconnecting subscribers.
const feedKept = 256

// Feed is the server-sent event stream of one import: the run publishes
// into it, and every GET of the events path (Feed is an http.Handler)
// streams what was published. A reconnecting browser sends Last-Event-ID
// and gets only what it missed; progress events are snapshots, so of
// several missed ones only the latest is sent. After Finish every stream
// ends with the done event, and a reconnect after it is answered 204 (which
// tells EventSource to stop). A Feed is safe for concurrent use.
type Feed struct {
	heartbeat time.Duration

	mu     sync.Mutex
	seq    int64
	events []feedEvent // the last feedKept events, ids ascending
	done   bool
	wake   chan struct{} // closed and replaced on each publish
}

type feedEvent struct {
	id   int64
	name string
	data []byte
}

// NewFeed returns an empty Feed whose streams send a comment every
// heartbeat (default 15 s) to keep proxies from closing them.
func NewFeed(heartbeat time.Duration) *Feed {
	if heartbeat <= 0 {
		heartbeat = 15 * time.Second
	}
	return &Feed{heartbeat: heartbeat, wake: make(chan struct{})}
}

// Publish adds an event whose data is v as JSON. It fails after Finish.
func (f *Feed) Publish(name string, v any) error {
	return f.publish(name, v, false)
}

// Finish publishes the last event (normally EventDone with the summary)
// and ends every stream after it.
func (f *Feed) Finish(name string, v any) error {
	return f.publish(name, v, true)
}

func (f *Feed) publish(name string, v any, last bool) error {
	if name == "" || strings.ContainsAny(name, "\r\n") {
		return fmt.Errorf("event name %q: want one word", name)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("event %s: encode: %w", name, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return fmt.Errorf("event %s: the stream has ended", name)
	}
	f.seq++
	f.events = append(f.events, feedEvent{id: f.seq, name: name, data: data})
	if len(f.events) > feedKept {
		f.events = append(f.events[:0:0], f.events[len(f.events)-feedKept:]...)
	}
	f.done = last
	close(f.wake)
	f.wake = make(chan struct{})
	return nil
}

// Finished reports whether Finish was called.
func (f *Feed) Finished() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.done
}

// pending returns the events after id (progress coalesced), whether the
// stream is over, and the channel closed on the next publish.
func (f *Feed) pending(after int64) ([]feedEvent, bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []feedEvent
	for i, e := range f.events {
		if e.id <= after {
			continue
		}
		if e.name == EventProgress && laterNamed(f.events[i+1:], EventProgress) {
			continue
		}
		out = append(out, e)
	}
	return out, f.done, f.wake
}

func laterNamed(es []feedEvent, name string) bool {
	for _, e := range es {
		if e.name == name {
			return true
		}
	}
	return false
}

// ServeHTTP streams the feed as text/event-stream from after the request's
// Last-Event-ID (or ?last_event_id=).
func (f *Feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	last := lastEventID(r)
	events, done, wake := f.pending(last)
	if done && len(events) == 0 {
		// The browser already has the done event: 204 stops EventSource.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 2000\n\n")
	tick := time.NewTicker(f.heartbeat)
	defer tick.Stop()
	for {
		for _, e := range events {
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.id, e.name, e.data)
			last = e.id
		}
		if err := rc.Flush(); err != nil || done {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case <-wake:
		}
		events, done, wake = f.pending(last)
	}
}

func lastEventID(r *http.Request) int64 {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("last_event_id")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
