package web_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/web"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct{ id, name, data string }

// eventReader returns the events of a stream one by one; the zero event
// when it ends.
func eventReader(res *http.Response) func() sseEvent {
	sc := bufio.NewScanner(res.Body)
	return func() sseEvent {
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && cur.name != "":
				return cur
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[6:]
			}
		}
		return sseEvent{}
	}
}

// readEvents reads events from a stream until n arrive or it ends.
func readEvents(t *testing.T, url, lastID string, n int) (int, []sseEvent) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return res.StatusCode, nil
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type %q", ct)
	}
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(res.Body)
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.data = line[6:]
		}
	}
	return res.StatusCode, out
}

func TestFeedStreamsProgressThenDoneAndResumesAfterLastEventID(t *testing.T) {
	feed := web.NewFeed(time.Hour)
	hs := httptest.NewServer(feed)
	defer hs.Close()

	feed.Publish(web.EventProgress, map[string]int{"sent": 100})
	feed.Publish(web.EventProgress, map[string]int{"sent": 200})

	// A subscriber that arrives late gets only the latest progress, then
	// what follows as it is published.
	res, err := http.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	next := eventReader(res)
	if ev := next(); ev != (sseEvent{"2", "progress", `{"sent":200}`}) {
		t.Fatalf("first event = %+v", ev)
	}
	feed.Publish(web.EventProgress, map[string]int{"sent": 300})
	if ev := next(); ev != (sseEvent{"3", "progress", `{"sent":300}`}) {
		t.Errorf("second event = %+v", ev)
	}
	feed.Finish(web.EventDone, map[string]any{"state": "done", "imported": 300})
	if ev := next(); ev != (sseEvent{"4", "done", `{"imported":300,"state":"done"}`}) {
		t.Errorf("last event = %+v", ev)
	}
	if ev := next(); ev != (sseEvent{}) {
		t.Errorf("the stream goes on after done: %+v", ev)
	}

	// A reconnect after progress 3 gets done only; after done, 204.
	if _, evs := readEvents(t, hs.URL, "3", 5); len(evs) != 1 || evs[0].name != "done" {
		t.Errorf("after id 3: %+v", evs)
	}
	if status, _ := readEvents(t, hs.URL, "4", 5); status != http.StatusNoContent {
		t.Errorf("after done: status %d, want 204", status)
	}
	if err := feed.Publish(web.EventProgress, 1); err == nil {
		t.Errorf("Publish after Finish did not fail")
	}
}
