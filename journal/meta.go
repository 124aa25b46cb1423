package journal

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/m7import/m7import/api"
)

// Meta is the side file an import writes next to its report
// (REPORT.meta.json): what rollback needs to know about the run and
// the report's own columns cannot say.
type Meta struct {
	Version     int      `json:"version"`
	Input       string   `json:"input"`
	InputSHA256 string   `json:"input_sha256,omitempty"`
	Report      string   `json:"report"`
	TaskID      string   `json:"task_id"`
	TaskName    string   `json:"task_name,omitempty"`
	Rule        api.Rule `json:"rule"`
	BatchSize   int      `json:"batch_size"`
	Operator    string   `json:"operator,omitempty"`
	// Mapping is which input column fed each field ("" for none).
	Mapping           map[string]string `json:"mapping,omitempty"`
	NumberTotalBefore int               `json:"number_total_before"`
	NumberTotalAfter  int               `json:"number_total_after"`
	Imported          int               `json:"imported"`
	Unconfirmed       int               `json:"unconfirmed"`
	StartedAt         time.Time         `json:"started_at"`
	FinishedAt        time.Time         `json:"finished_at"`
}

// MetaPath is where the side file of a report lives.
func MetaPath(report string) string { return report + ".meta.json" }

// WriteMeta writes m atomically next to its report.
func WriteMeta(report string, m Meta) error {
	m.Version = 1
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(MetaPath(report), append(b, '\n'))
}

// ReadMeta reads the side file of a report.
func ReadMeta(report string) (Meta, error) {
	var m Meta
	b, err := os.ReadFile(MetaPath(report))
	if err != nil {
		return m, fmt.Errorf("read the report's side file: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("read %s: %w", MetaPath(report), err)
	}
	return m, nil
}

// WriteFileAtomic replaces path with data so that a reader sees either the
// old file or the whole new one, even after a crash.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
