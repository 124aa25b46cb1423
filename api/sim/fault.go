package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// FaultMode is what an injected fault does to a request.
type FaultMode int

const (
	// FaultNone injects nothing.
	FaultNone FaultMode = iota
	// Fault503 answers 503 without processing the request.
	Fault503
	// Fault429 answers 429 without processing the request, with
	// Fault.RetryAfter (however long: retry-after=86400 is sent as is).
	Fault429
	// FaultProcessThen500 processes the request, then answers 500: the
	// dangerous case where the client cannot know the work was done.
	FaultProcessThen500
	// FaultProcessThenDrop processes the request, then closes the connection
	// without replying.
	FaultProcessThenDrop
	// FaultLatency delays the request by Fault.Latency, then serves it
	// normally (or with another fault that fires on the same call). A client
	// that gives up during the delay leaves the request unprocessed.
	FaultLatency
	// FaultProcessLate holds the request for Fault.Latency and then
	// processes it whether or not the client is still there (a slow server
	// that finishes the work after the client timed out); the reply follows
	// if anyone is listening. Until then the task's numberTotal does not
	// show the batch, and the endpoint's Stats count it Pending; WaitIdle
	// waits for it. The delay is real time, not Config.Now.
	FaultProcessLate
	// FaultDropBefore closes the connection without processing the request,
	// after reading all of it: the client sees a transport error after
	// writing the request.
	FaultDropBefore
	// FaultGateway502 answers an HTML "502 Bad Gateway" page, as nginx in
	// front of a dead upstream does, without processing the request.
	FaultGateway502
	// FaultProcessBusy processes the request, then answers HTTP 200
	// {"success":false,"code":"ERR_BUSY"}: a business error after the work
	// was done. A request the endpoint itself refuses (validation) gets its
	// refusal instead, since nothing was done.
	FaultProcessBusy

	faultModeEnd // one past the last mode
)

// CodeBusy is the envelope code FaultProcessBusy answers with: a vendor
// business code the client does not know.
const CodeBusy = "ERR_BUSY"

// gatewayPage is what FaultGateway502 answers, byte for byte nginx's.
const gatewayPage = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n" +
	"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// FaultModes returns every mode that injects something, in declaration
// order.
func FaultModes() []FaultMode {
	modes := make([]FaultMode, 0, int(faultModeEnd))
	for m := Fault503; m < faultModeEnd; m++ {
		modes = append(modes, m)
	}
	return modes
}

// takesDuration reports whether the mode is written MODE=DURATION.
func (m FaultMode) takesDuration() bool { return m == FaultLatency || m == FaultProcessLate }

// String returns the mode's name as ParseFault reads it.
func (m FaultMode) String() string {
	switch m {
	case FaultNone:
		return "none"
	case Fault503:
		return "503"
	case Fault429:
		return "429"
	case FaultProcessThen500:
		return "process-500"
	case FaultProcessThenDrop:
		return "process-drop"
	case FaultLatency:
		return "latency"
	case FaultProcessLate:
		return "process-late"
	case FaultDropBefore:
		return "drop-before"
	case FaultGateway502:
		return "gateway-502"
	case FaultProcessBusy:
		return "process-busy"
	}
	return "FaultMode(" + strconv.Itoa(int(m)) + ")"
}

// Fault is one injected fault of an endpoint. It fires on every EveryN-th
// call that reaches fault injection (authenticated and within the rate
// limit), or with probability Rate drawn from the seeded source; with
// neither set, on every call.
type Fault struct {
	Mode       FaultMode
	EveryN     int
	Rate       float64
	Latency    time.Duration // the delay of FaultLatency and FaultProcessLate
	RetryAfter time.Duration // Retry-After sent with Fault503 and Fault429; 0 = none
}

type faultState struct {
	Fault
	n int
}

// SetFaults replaces the faults of endpoint (EndpointImport, ... or
// EndpointAll for every endpoint); none clears them. Several can coexist:
// each is counted and drawn on every call, latencies add up, and of the
// other modes that fire the first listed wins. Faults of the endpoint are
// listed before those of EndpointAll.
func (s *Server) SetFaults(endpoint string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	states := make([]*faultState, 0, len(faults))
	for _, f := range faults {
		if f.Mode != FaultNone {
			states = append(states, &faultState{Fault: f})
		}
	}
	if len(states) == 0 {
		delete(s.faults, endpoint)
		return
	}
	s.faults[endpoint] = states
}

// AddFaults appends faults to those of endpoint, for a CLI that reads one
// fault per flag.
func (s *Server) AddFaults(endpoint string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		if f.Mode != FaultNone {
			s.faults[endpoint] = append(s.faults[endpoint], &faultState{Fault: f})
		}
	}
}

// decision is what the faults of one call decided: the added latency of
// every FaultLatency that fired, and the first other fault that fired
// (Mode FaultNone when none did).
type decision struct {
	Fault
	latency time.Duration
}

// decideFaults draws the faults of one call.
func (s *Server) decideFaults(endpoint string) decision {
	s.mu.Lock()
	defer s.mu.Unlock()
	var d decision
	st := s.stat(endpoint)
	for _, list := range [][]*faultState{s.faults[endpoint], s.faults[EndpointAll]} {
		for _, f := range list {
			f.n++
			fire := f.EveryN <= 0 && f.Rate <= 0
			if f.EveryN > 0 && f.n%f.EveryN == 0 {
				fire = true
			}
			if f.Rate > 0 && s.rng.Float64() < f.Rate {
				fire = true
			}
			switch {
			case !fire:
			case f.Mode == FaultLatency:
				d.latency += f.Latency
				st.Faults[f.Mode.String()]++
			case d.Mode == FaultNone:
				d.Fault = f.Fault
				st.Faults[f.Mode.String()]++
			}
		}
	}
	return d
}

// ParseFault reads a fault as the CLI's --fault flag writes it:
// ENDPOINT:MODE[:OPTION...], where ENDPOINT is create, update, get, import,
// delete, agent or *, MODE is 503, 429, process-500, process-drop,
// drop-before, gateway-502, process-busy, latency=DURATION or
// process-late=DURATION, and the options are every=N, rate=P (0..1),
// retry-after=DURATION or seconds, latency=DURATION. Examples:
// "import:process-500:rate=0.05", "import:latency=300ms",
// "import:process-late=6s:rate=0.3", "*:503:every=10",
// "import:429:retry-after=86400".
func ParseFault(spec string) (endpoint string, f Fault, err error) {
	const modes = "503, 429, process-500, process-drop, drop-before, gateway-502, process-busy, latency=DURATION or process-late=DURATION"
	parts := strings.Split(spec, ":")
	if len(parts) < 2 {
		return "", Fault{}, fmt.Errorf("fault %q: want ENDPOINT:MODE[:OPTION...]", spec)
	}
	endpoint = parts[0]
	switch endpoint {
	case EndpointCreate, EndpointUpdate, EndpointGet, EndpointImport, EndpointDelete, EndpointAgent, EndpointAll:
	default:
		return "", Fault{}, fmt.Errorf("fault %q: unknown endpoint %q (want create, update, get, import, delete, agent or *)", spec, endpoint)
	}
	modeName, modeArg, hasArg := strings.Cut(parts[1], "=")
	for _, m := range FaultModes() {
		if m.String() == modeName {
			f.Mode = m
		}
	}
	if f.Mode == FaultNone {
		return "", Fault{}, fmt.Errorf("fault %q: unknown mode %q (want %s)", spec, modeName, modes)
	}
	if hasArg && !f.Mode.takesDuration() {
		return "", Fault{}, fmt.Errorf("fault %q: mode %s takes no value", spec, modeName)
	}
	opts := parts[2:]
	if hasArg {
		opts = append([]string{"latency=" + modeArg}, opts...)
	}
	for _, opt := range opts {
		key, val, found := strings.Cut(opt, "=")
		if !found {
			return "", Fault{}, fmt.Errorf("fault %q: option %q: want KEY=VALUE", spec, opt)
		}
		switch key {
		case "every":
			n, perr := strconv.Atoi(val)
			if perr != nil || n < 1 {
				return "", Fault{}, fmt.Errorf("fault %q: every=%s: want a whole number from 1", spec, val)
			}
			f.EveryN = n
		case "rate":
			p, perr := strconv.ParseFloat(val, 64)
			if perr != nil || !(p > 0 && p <= 1) {
				return "", Fault{}, fmt.Errorf("fault %q: rate=%s: want a probability in (0, 1]", spec, val)
			}
			f.Rate = p
		case "latency", "retry-after":
			d, perr := parseDuration(val)
			if perr != nil {
				return "", Fault{}, fmt.Errorf("fault %q: %s=%s: %w", spec, key, val, perr)
			}
			if key == "latency" {
				f.Latency = d
			} else {
				f.RetryAfter = d
			}
		default:
			return "", Fault{}, fmt.Errorf("fault %q: unknown option %q (want every, rate, latency or retry-after)", spec, key)
		}
	}
	if f.Mode.takesDuration() && f.Latency <= 0 {
		return "", Fault{}, fmt.Errorf("fault %q: %s needs a duration, e.g. %s=300ms", spec, f.Mode, f.Mode)
	}
	return endpoint, f, nil
}

// parseDuration reads a Go duration or a whole number of seconds.
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		if n > int64(math.MaxInt64/time.Second) {
			return 0, fmt.Errorf("%d seconds is too long", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration such as 300ms or 2s")
	}
	return d, nil
}
