package inbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/importer"
)

// ConfigFile is the per-folder settings file inside DIR/.m7import.
const ConfigFile = "config.json"

// maxConfigSize bounds config.json: it is a few routes, not data.
const maxConfigSize = 1 << 20

// Config is DIR/.m7import/config.json: which task each file goes into, by
// its name, and how its columns are read, so that a CRM export with its
// own header names needs no flags. What a route leaves out comes from the
// folder-wide settings here, and what those leave out from the flags.
type Config struct {
	// Routes are tried in order; the first whose Match fits the file's
	// name decides. No route, or none that fits: the flags' task.
	Routes []Route `json:"routes,omitempty"`
	// Map, Rule and Sheet apply to every file whose route does not say.
	Map   map[string]string `json:"map,omitempty"`
	Rule  *int              `json:"rule,omitempty"`
	Sheet string            `json:"sheet,omitempty"`
}

// Route sends the files whose name matches a glob to a task.
type Route struct {
	// Match is a glob over the file's name (path.Match: *, ?, [a-z]),
	// e.g. "vip-*.xlsx" or "*".
	Match string `json:"match"`
	// TaskID or TaskName (with CreateTask) names the task; neither: the
	// flags' task.
	TaskID     string `json:"task_id,omitempty"`
	TaskName   string `json:"task_name,omitempty"`
	CreateTask bool   `json:"create_task,omitempty"`
	// Map (field → header, as --map), Rule and Sheet override the
	// folder-wide settings for these files.
	Map   map[string]string `json:"map,omitempty"`
	Rule  *int              `json:"rule,omitempty"`
	Sheet string            `json:"sheet,omitempty"`
}

// ErrBadConfig is wrapped by every refusal of a config.json.
var ErrBadConfig = errors.New("bad inbox config")

// LoadConfig reads DIR/.m7import/config.json; a folder without one has
// the zero Config (the flags decide everything).
func LoadConfig(dir string) (Config, error) {
	p := filepath.Join(dir, StateDir, ConfigFile)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return Config{}, nil
	}
	if err != nil {
		return Config{}, fmt.Errorf("read %s: %w", p, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return Config{}, fmt.Errorf("read %s: %w", p, err)
	}
	if len(b) > maxConfigSize {
		return Config{}, fmt.Errorf("%s: %w: larger than %d bytes", p, ErrBadConfig, maxConfigSize)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", p, err)
	}
	return c, nil
}

// ParseConfig reads a config.json's bytes and checks every route, so that
// a typo is reported when the inbox starts, not when a file arrives.
// Unknown keys are refused for the same reason.
func ParseConfig(b []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	if dec.More() {
		return Config{}, fmt.Errorf("%w: more than one JSON value", ErrBadConfig)
	}
	if err := checkColumns("", c.Map, c.Rule); err != nil {
		return Config{}, err
	}
	for i, r := range c.Routes {
		where := fmt.Sprintf("route %d (%q)", i+1, r.Match)
		if r.Match == "" {
			return Config{}, fmt.Errorf("%w: route %d has no \"match\" (use \"*\" for every file)", ErrBadConfig, i+1)
		}
		if _, err := path.Match(r.Match, ""); err != nil {
			return Config{}, fmt.Errorf("%w: %s: %v", ErrBadConfig, where, err)
		}
		switch {
		case r.TaskID != "" && r.TaskName != "":
			return Config{}, fmt.Errorf("%w: %s: give task_id or task_name, not both", ErrBadConfig, where)
		case r.CreateTask && r.TaskName == "":
			return Config{}, fmt.Errorf("%w: %s: create_task needs task_name", ErrBadConfig, where)
		}
		if err := checkColumns(where+": ", r.Map, r.Rule); err != nil {
			return Config{}, err
		}
	}
	return c, nil
}

func checkColumns(where string, m map[string]string, rule *int) error {
	if _, err := fieldMap(m); err != nil {
		return fmt.Errorf("%w: %smap: %v", ErrBadConfig, where, err)
	}
	if rule != nil {
		if _, err := api.ParseRule(*rule); err != nil {
			return fmt.Errorf("%w: %srule: %v", ErrBadConfig, where, err)
		}
	}
	return nil
}

// fieldMap turns a config map (field name → header) into the reader's.
func fieldMap(m map[string]string) (map[importer.Field]string, error) {
	if m == nil {
		return nil, nil
	}
	out := map[importer.Field]string{}
	for k, v := range m {
		f, err := importer.ParseField(k)
		if err != nil {
			return nil, err
		}
		if v == "" {
			return nil, fmt.Errorf("field %s: empty header", k)
		}
		if _, dup := out[f]; dup {
			return nil, fmt.Errorf("field %s given twice", f)
		}
		out[f] = v
	}
	return out, nil
}

// route returns the first route whose glob fits name, or nil.
func (c Config) route(name string) *Route {
	for i := range c.Routes {
		if ok, _ := path.Match(c.Routes[i].Match, name); ok {
			return &c.Routes[i]
		}
	}
	return nil
}

// HasRoutes reports whether the config names tasks itself, so that the
// inbox may run without --task-id or --task-name.
func (c Config) HasRoutes() bool {
	for _, r := range c.Routes {
		if r.TaskID != "" || r.TaskName != "" {
			return true
		}
	}
	return false
}
