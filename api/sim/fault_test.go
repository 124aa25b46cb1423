package sim_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

func TestParseFault(t *testing.T) {
	tests := []struct {
		spec     string
		endpoint string
		want     sim.Fault
		wantErr  bool
	}{
		{"import:process-500:rate=0.05", "import", sim.Fault{Mode: sim.FaultProcessThen500, Rate: 0.05}, false},
		{"import:latency=300ms", "import", sim.Fault{Mode: sim.FaultLatency, Latency: 300 * time.Millisecond}, false},
		{"*:503:every=10", "*", sim.Fault{Mode: sim.Fault503, EveryN: 10}, false},
		{"get:429:retry-after=2", "get", sim.Fault{Mode: sim.Fault429, RetryAfter: 2 * time.Second}, false},
		{"delete:503:retry-after=1500ms:every=2", "delete", sim.Fault{Mode: sim.Fault503, RetryAfter: 1500 * time.Millisecond, EveryN: 2}, false},
		{"agent:process-drop:rate=1", "agent", sim.Fault{Mode: sim.FaultProcessThenDrop, Rate: 1}, false},
		{"create:latency:latency=1s", "create", sim.Fault{Mode: sim.FaultLatency, Latency: time.Second}, false},
		{"import", "", sim.Fault{}, true},
		{"nowhere:503", "", sim.Fault{}, true},
		{"import:teapot", "", sim.Fault{}, true},
		{"import:503:rate=2", "", sim.Fault{}, true},
		{"import:503:every=0", "", sim.Fault{}, true},
		{"import:503:colour=red", "", sim.Fault{}, true},
		{"import:latency", "", sim.Fault{}, true},
		{"import:latency=fast", "", sim.Fault{}, true},
		{"import:503:every", "", sim.Fault{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			endpoint, f, err := sim.ParseFault(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFault(%q) error %v, want error %v", tt.spec, err, tt.wantErr)
			}
			if endpoint != tt.endpoint || f != tt.want {
				t.Errorf("ParseFault(%q) = %q %+v, want %q %+v", tt.spec, endpoint, f, tt.endpoint, tt.want)
			}
		})
	}
}

func TestFaultModeNamesRoundTrip(t *testing.T) {
	for m := sim.Fault503; m <= sim.FaultLatency; m++ {
		spec := "import:" + m.String()
		if m == sim.FaultLatency {
			spec += "=1s"
		}
		if _, f, err := sim.ParseFault(spec); err != nil || f.Mode != m {
			t.Errorf("mode %v does not round-trip: %+v %v", m, f, err)
		}
	}
}

func TestDevCredentialsByDefault(t *testing.T) {
	if s := sim.New(sim.Config{}); s.AppKey() != sim.DevAppKey {
		t.Errorf("AppKey = %q, want %q", s.AppKey(), sim.DevAppKey)
	}
}

func TestSameSeedSameTaskIDs(t *testing.T) {
	a, b, c := sim.New(sim.Config{Seed: 1}), sim.New(sim.Config{Seed: 1}), sim.New(sim.Config{Seed: 2})
	idA, idB, idC := a.CreateTask("x"), b.CreateTask("x"), c.CreateTask("x")
	if idA != idB || idA == idC {
		t.Errorf("ids %s %s %s: want equal for equal seeds, different otherwise", idA, idB, idC)
	}
	if len(idA) != 36 || idA[8] != '-' || idA[14] != '4' {
		t.Errorf("id %q is not UUID-shaped", idA)
	}
}

func TestAddFaultsKeepsEarlierOnes(t *testing.T) {
	s := sim.New(sim.Config{})
	for _, spec := range []string{"import:503:every=2", "import:429:every=3"} {
		endpoint, f, err := sim.ParseFault(spec)
		if err != nil {
			t.Fatal(err)
		}
		s.AddFaults(endpoint, f)
	}
	id := s.CreateTask("t")
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, _ := api.New(api.Config{BaseURL: ts.URL, AppKey: sim.DevAppKey, Secret: sim.DevSecret})
	for range 6 {
		c.Import(context.Background(), api.ImportRequest{TaskID: id, ImportData: []api.ImportRow{{Number: "1"}}})
	}
	// calls 2, 4, 6 get 503 (listed first); call 3 gets 429.
	if f := s.Stats()[sim.EndpointImport].Faults; f["503"] != 3 || f["429"] != 1 {
		t.Errorf("faults %v, want 3×503 and 1×429", f)
	}
}
