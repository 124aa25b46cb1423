package sim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

// TestInjectedRepliesOnTheWire checks what each reply-shaping fault sends,
// byte for byte where a client depends on it, with a hand-built request.
func TestInjectedRepliesOnTheWire(t *testing.T) {
	tests := []struct {
		name        string
		fault       sim.Fault
		status      int
		contentType string
		bodyHas     string
		retryAfter  string
		stored      int
	}{
		{"gateway 502 is nginx's page, nothing stored", sim.Fault{Mode: sim.FaultGateway502}, 502, "text/html", "<title>502 Bad Gateway</title>", "", 0},
		{"process-busy is a 200 business error after storing", sim.Fault{Mode: sim.FaultProcessBusy}, 200, "application/json", `"success":false,"code":"ERR_BUSY"`, "", 1},
		{"429 sends a day's Retry-After as is", sim.Fault{Mode: sim.Fault429, RetryAfter: 86400 * time.Second}, 429, "application/json", `"code":"429"`, "86400", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sim.New(sim.Config{})
			id := s.CreateTask("t")
			s.SetFaults(sim.EndpointImport, tt.fault)
			ts := httptest.NewServer(s)
			defer ts.Close()

			body := `{"taskId":"` + id + `","rule":2,"importData":[{"number":"13800138000"}]}`
			req, _ := http.NewRequest(http.MethodPost, ts.URL+api.PathImport, strings.NewReader(body))
			now := api.Timestamp(time.Now())
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(api.HeaderAppKey, sim.DevAppKey)
			req.Header.Set(api.HeaderNonce, "123456")
			req.Header.Set(api.HeaderTimestamp, now)
			req.Header.Set(api.HeaderSign, api.Sign(sim.DevAppKey, sim.DevSecret, now, "123456"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.contentType) ||
				!strings.Contains(string(raw), tt.bodyHas) || resp.Header.Get("Retry-After") != tt.retryAfter {
				t.Errorf("got %d %q Retry-After %q body %s; want %d %q Retry-After %q body with %s",
					resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Retry-After"), raw,
					tt.status, tt.contentType, tt.retryAfter, tt.bodyHas)
			}
			if tt.contentType == "application/json" && !json.Valid(raw) {
				t.Errorf("body is not JSON: %s", raw)
			}
			if n := len(s.Numbers(id)); n != tt.stored {
				t.Errorf("task holds %d numbers, want %d", n, tt.stored)
			}
			st := s.Stats()[sim.EndpointImport]
			if st.Processed != tt.stored || st.Faults[tt.fault.Mode.String()] != 1 || len(st.Refused) != 0 {
				t.Errorf("stats %+v: want processed %d, one %s fault, no refusals", st, tt.stored, tt.fault.Mode)
			}
		})
	}
}
