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
		{"import:process-late=6s:rate=0.3", "import", sim.Fault{Mode: sim.FaultProcessLate, Latency: 6 * time.Second, Rate: 0.3}, false},
		{"import:process-late:latency=2:every=4", "import", sim.Fault{Mode: sim.FaultProcessLate, Latency: 2 * time.Second, EveryN: 4}, false},
		{"import:drop-before:every=5", "import", sim.Fault{Mode: sim.FaultDropBefore, EveryN: 5}, false},
		{"*:gateway-502", "*", sim.Fault{Mode: sim.FaultGateway502}, false},
		{"import:process-busy:rate=0.2", "import", sim.Fault{Mode: sim.FaultProcessBusy, Rate: 0.2}, false},
		{"import:429:retry-after=86400", "import", sim.Fault{Mode: sim.Fault429, RetryAfter: 86400 * time.Second}, false},
		{"import:429:retry-after=24h", "import", sim.Fault{Mode: sim.Fault429, RetryAfter: 24 * time.Hour}, false},
		{"import:process-late", "", sim.Fault{}, true},
		{"import:process-late=0s", "", sim.Fault{}, true},
		{"import:503=2s", "", sim.Fault{}, true},
		{"import:429:retry-after=99999999999999", "", sim.Fault{}, true},
		{"import:503:rate=NaN", "", sim.Fault{}, true},
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
	modes := sim.FaultModes()
	if len(modes) != 9 || modes[0] != sim.Fault503 {
		t.Fatalf("FaultModes() = %v", modes)
	}
	for _, m := range modes {
		spec := "import:" + m.String()
		if m == sim.FaultLatency || m == sim.FaultProcessLate {
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

// FuzzParseFault: any spec either fails or yields a fault that injects
// something, on a known endpoint, with sane numbers.
func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"import:process-500:rate=0.05", "import:latency=300ms", "*:503:every=10",
		"import:process-late=6s", "get:429:retry-after=86400", "import:gateway-502", "a:b:c=d:e", ":=::="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		endpoint, flt, err := sim.ParseFault(spec)
		if err != nil {
			return
		}
		if flt.Mode == sim.FaultNone || endpoint == "" {
			t.Fatalf("ParseFault(%q) = %q %+v without an error", spec, endpoint, flt)
		}
		if flt.EveryN < 0 || flt.Rate < 0 || flt.Rate > 1 || flt.Latency < 0 || flt.RetryAfter < 0 {
			t.Fatalf("ParseFault(%q) = %+v: out of range", spec, flt)
		}
	})
}

func TestAddNumbers(t *testing.T) {
	s := sim.New(sim.Config{})
	id := s.CreateTask("t", "2000", "2001")
	if err := s.AddNumbers(id, 3); err != nil {
		t.Fatal(err)
	}
	if err := s.AddNumbers(id, 2); err != nil {
		t.Fatal(err)
	}
	nums := s.Numbers(id)
	seen := map[string]bool{}
	for _, n := range nums {
		if seen[n.Number] || len(n.Number) != 11 || n.AgentNumber == "" {
			t.Errorf("row %+v: want a fresh 11-digit number assigned to an agent", n)
		}
		seen[n.Number] = true
	}
	if len(nums) != 5 || s.Tasks()[0].Numbers != 5 {
		t.Errorf("%d rows, numberTotal %d; want 5", len(nums), s.Tasks()[0].Numbers)
	}
	if st := s.Stats()[sim.EndpointImport]; st.Calls != 0 || st.Processed != 0 {
		t.Errorf("AddNumbers counted as import calls: %+v", st)
	}
	if err := s.AddNumbers("nope", 1); err == nil {
		t.Error("AddNumbers into an unknown task: no error")
	}
	if err := s.AddNumbers(id, -1); err == nil {
		t.Error("AddNumbers of -1: no error")
	}
}

func TestWaitIdleWithNothingPendingReturnsAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sim.New(sim.Config{}).WaitIdle(ctx); err != nil {
		t.Errorf("WaitIdle = %v, want nil", err)
	}
}
