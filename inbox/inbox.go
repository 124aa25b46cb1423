package inbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/reports"
)

// The names the inbox uses in DIR.
const (
	StateDir    = ".m7import"     // the ledger, lock, config and work folder
	DoneDir     = "done"          // imported files and copies
	FailedDir   = "failed"        // files whose content cannot be imported
	SummaryFile = "summary.jsonl" // one line per file and pass
	LockFile    = "inbox.lock"    // one inbox per folder
	WorkDir     = "work"          // reports and journals of files in progress
)

// ErrBusy is returned by Open when another inbox holds the folder.
var ErrBusy = errors.New("another m7import inbox is running on this folder")

// Options are an inbox's settings.
type Options struct {
	// Job are the import settings every file starts from (the import
	// flags). The inbox sets Report, Attention, Resume, Source, Command
	// and LockWait itself, and Rule and Read per route.
	Job job.Options
	// Task is the task of files no route names (the flags'); its Create,
	// when set, also creates the tasks of routes with create_task.
	Task job.TaskRef
	// Create is how a route with create_task creates its task (agents,
	// queues…); nil creates it with no settings.
	Create *api.CreateTaskRequest
	// Settle leaves a file modified less than Settle ago for a later pass.
	Settle time.Duration
	// Watch keeps passing over the folder every Poll until ctx ends.
	Watch bool
	Poll  time.Duration
	// Notify, when set, gets a pass's summary (JSON) whenever a file of
	// it needs a person (any exit status but 0).
	Notify func(ctx context.Context, summary []byte) error
	// Done, when set, gets each file's line as it is written.
	Done func(Line)
	// Log, when set, gets a sentence about what the inbox does.
	Log func(string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Line is what the inbox says about one file: the `import --json` keys
// plus where the file went. It is summary.jsonl's line.
type Line struct {
	job.Summary
	// SHA256 is the file's content hash (the ledger's key with the task).
	SHA256 string `json:"sha256"`
	State  State  `json:"state"`
	// MovedTo is where the file went, relative to DIR; "" while it stays
	// in DIR to be retried (State pending).
	MovedTo string `json:"moved_to"`
	// CopyOf names the earlier file of the same content, for a copy.
	CopyOf string `json:"copy_of,omitempty"`
	// Hint says what to try next, when the file needs a person.
	Hint string `json:"hint,omitempty"`
}

// RunSummary is what one pass (or one run) did: what --notify receives.
type RunSummary struct {
	Dir        string    `json:"dir"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// ExitCode is the worst of the files' (1 > 4 > 3 > 0).
	ExitCode int `json:"exit_code"`
	// Imported, Copies, Failed and Pending count the files by outcome.
	Imported int    `json:"imported"`
	Copies   int    `json:"copies"`
	Failed   int    `json:"failed"`
	Pending  int    `json:"pending"`
	Files    []Line `json:"files"`
}

func (s *RunSummary) add(l Line) {
	s.Files = append(s.Files, l)
	switch l.State {
	case StateImported:
		s.Imported++
	case StateCopy:
		s.Copies++
	case StateFailed:
		s.Failed++
	default:
		s.Pending++
	}
	if job.Worse(job.Code(l.ExitCode), job.Code(s.ExitCode)) {
		s.ExitCode = l.ExitCode
	}
}

// Inbox is one folder, held by this process until Close.
type Inbox struct {
	dir    string
	state  string
	client *api.Client
	o      Options
	lock   *os.File
	ledger *Ledger
	// retryAt, in watch mode, is when a file that stayed in DIR is tried
	// again (its name, size and mtime as key), so a dead network is not
	// hammered every poll; tries doubles the wait up to maxRetryWait.
	retryAt map[string]retry
}

type retry struct {
	at    time.Time
	tries int
}

// maxRetryWait bounds the wait before a file that stayed is tried again
// in watch mode.
const maxRetryWait = 10 * time.Minute

// Open takes the folder: its lock (a second inbox on the same folder is
// refused at once with ErrBusy) and its ledger.
func Open(ctx context.Context, dir string, client *api.Client, o Options) (*Inbox, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Poll <= 0 {
		o.Poll = 10 * time.Second
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a folder")
		}
		return nil, job.WithHint(fmt.Errorf("inbox %s: %w", dir, err), "give the folder the lead files are dropped into")
	}
	// Paths as the history records them (links resolved), so that this
	// folder's reports are recognised there.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	b := &Inbox{dir: abs, state: filepath.Join(abs, StateDir), client: client, o: o, retryAt: map[string]retry{}}
	if err := os.MkdirAll(b.state, 0o755); err != nil {
		return nil, fmt.Errorf("inbox %s: %w", dir, err)
	}
	if b.lock, err = lockFolder(b.state, dir, o.Now()); err != nil {
		return nil, err
	}
	if b.ledger, err = OpenLedger(ctx, b.state); err != nil {
		b.lock.Close()
		return nil, err
	}
	return b, nil
}

// lockFolder takes DIR/.m7import/inbox.lock with flock(2): the kernel
// drops it however the holder exits, so kill -9 leaves no stale lock.
func lockFolder(state, dir string, now time.Time) (*os.File, error) {
	p := filepath.Join(state, LockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: lock: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("inbox %s: lock %s: %w (the folder must be on local storage or storage with working locks)", dir, p, err)
		}
		holder, _ := os.ReadFile(p)
		who := strings.TrimSpace(string(holder))
		if who == "" {
			who = "lock " + p
		}
		return nil, &job.Error{Code: job.CodeFailed, Err: fmt.Errorf("inbox %s: %w (%s)", dir, ErrBusy, who),
			Hint: "one inbox per folder: let the other one finish (or stop it), then run this again"}
	}
	f.Truncate(0)
	fmt.Fprintf(f, "pid %d, since %s\n", os.Getpid(), now.Format(time.RFC3339))
	f.Sync()
	return f, nil
}

// Close releases the folder.
func (b *Inbox) Close() error {
	err := b.ledger.Close()
	b.lock.Close()
	return err
}

// Ledger is the folder's ledger.
func (b *Inbox) Ledger() *Ledger { return b.ledger }

func (b *Inbox) log(s string) {
	if b.o.Log != nil {
		b.o.Log(s)
	}
}

// Run passes over the folder once, or with Watch until ctx ends, and
// notifies after each pass with files needing a person. The error's code
// (job.CodeOf) is the worst of the files' last outcomes.
func (b *Inbox) Run(ctx context.Context) (RunSummary, error) {
	total := RunSummary{Dir: b.dir, StartedAt: b.o.Now()}
	last := map[string]Line{}
	var order []string
	for {
		pass, err := b.Pass(ctx)
		for _, l := range pass.Files {
			if _, seen := last[l.File]; !seen {
				order = append(order, l.File)
			}
			last[l.File] = l
		}
		if pass.ExitCode != 0 && b.o.Notify != nil {
			b.notify(ctx, pass)
		}
		if err != nil && !b.o.Watch {
			return total, err
		}
		if err != nil {
			// A watch goes on: the config may be fixed meanwhile.
			b.log(fmt.Sprintf("warning: %v", err))
		}
		if !b.o.Watch || ctx.Err() != nil {
			break
		}
		t := time.NewTimer(b.o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	// What each file came to (a watch may have taken a file more than once).
	for _, f := range order {
		total.add(last[f])
	}
	total.FinishedAt = b.o.Now()
	if total.ExitCode == 0 {
		return total, nil
	}
	return total, &job.Error{Code: job.Code(total.ExitCode), Err: fmt.Errorf("inbox %s: %d imported, %d copies, %d failed, %d waiting to be retried; see %s",
		b.dir, total.Imported, total.Copies, total.Failed, total.Pending, filepath.Join(b.dir, SummaryFile))}
}

// notify hands a pass's summary to the notifier; its failure is said,
// not fatal (the files' outcomes are already recorded).
func (b *Inbox) notify(ctx context.Context, s RunSummary) {
	raw, err := json.Marshal(s)
	if err == nil {
		err = b.o.Notify(ctx, raw)
	}
	if err != nil {
		b.log(fmt.Sprintf("warning: --notify failed: %v", err))
	}
}

// candidate is a file the pass may take.
type candidate struct {
	name  string
	mtime time.Time
	size  int64
}

func (c candidate) key() string { return fmt.Sprintf("%s|%d|%d", c.name, c.size, c.mtime.UnixNano()) }

// Pass takes every file in the folder that is ready, oldest first.
func (b *Inbox) Pass(ctx context.Context) (RunSummary, error) {
	sum := RunSummary{Dir: b.dir, StartedAt: b.o.Now()}
	defer func() { sum.FinishedAt = b.o.Now() }()
	cfg, err := LoadConfig(b.dir)
	if err != nil {
		return sum, job.WithHint(err, "fix it (README: \"Nightly folder (inbox)\"); no file was taken")
	}
	files, err := b.candidates()
	if err != nil {
		return sum, err
	}
	tasks := map[job.TaskRef]api.Task{}
	for _, c := range files {
		if ctx.Err() != nil {
			break
		}
		if r, ok := b.retryAt[c.key()]; ok && b.o.Now().Before(r.at) {
			continue
		}
		l, stop := b.file(ctx, cfg, c, tasks)
		if l.State == StatePending && b.o.Watch {
			r := b.retryAt[c.key()]
			r.tries++
			r.at = b.o.Now().Add(min(b.o.Poll<<min(r.tries, 16), maxRetryWait))
			b.retryAt[c.key()] = r
		} else {
			delete(b.retryAt, c.key())
		}
		sum.add(l)
		if b.o.Done != nil {
			b.o.Done(l)
		}
		if stop {
			break
		}
	}
	return sum, nil
}

// candidates lists the files ready to be taken, oldest first.
func (b *Inbox) candidates() ([]candidate, error) {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return nil, fmt.Errorf("inbox %s: %w", b.dir, err)
	}
	now := b.o.Now()
	var out []candidate
	for _, e := range entries {
		if !e.Type().IsRegular() || !Wanted(e.Name()) {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		if age := now.Sub(fi.ModTime()); age < b.o.Settle {
			b.log(fmt.Sprintf("%s: modified %s ago, within --settle %s: left for the next pass", e.Name(), age.Round(time.Second), b.o.Settle))
			continue
		}
		out = append(out, candidate{name: e.Name(), mtime: fi.ModTime(), size: fi.Size()})
	}
	slices.SortFunc(out, func(a, c candidate) int {
		if d := a.mtime.Compare(c.mtime); d != 0 {
			return d
		}
		return strings.Compare(a.name, c.name)
	})
	return out, nil
}

// Wanted reports whether a file name in the folder is a lead file to
// take: CSV, TSV, TXT or XLSX/XLSM (and .xls, which goes to failed/ with
// how to convert it), but not Office/WPS lock files (~$…), dotfiles or
// names of downloads and copies in progress (.tmp, .part, .crdownload).
func Wanted(name string) bool {
	if strings.HasPrefix(name, "~$") || strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls":
		return true
	}
	return false // .tmp, .part, .crdownload and everything else
}

// settings are one file's task and reading options, from its route, the
// config and the flags.
type settings struct {
	task job.TaskRef
	rule api.Rule
	read importer.Options
}

func (b *Inbox) settingsFor(cfg Config, name string) (settings, error) {
	s := settings{task: b.o.Task, rule: b.o.Job.Rule, read: b.o.Job.Read}
	sheet, m, rule := cfg.Sheet, cfg.Map, cfg.Rule
	if r := cfg.route(name); r != nil {
		switch {
		case r.TaskID != "":
			s.task = job.TaskRef{ID: r.TaskID}
		case r.TaskName != "":
			s.task = job.TaskRef{Name: r.TaskName}
			if r.CreateTask {
				s.task.Create = b.o.Create
				if s.task.Create == nil {
					s.task.Create = &api.CreateTaskRequest{}
				}
			}
		}
		if r.Sheet != "" {
			sheet = r.Sheet
		}
		if r.Map != nil {
			m = r.Map
		}
		if r.Rule != nil {
			rule = r.Rule
		}
	}
	if s.task.ID == "" && s.task.Name == "" {
		return s, job.WithHint(fmt.Errorf("%s: no task: no route of %s fits its name and no --task-id or --task-name was given", name, filepath.Join(StateDir, ConfigFile)),
			`add a route (e.g. {"match":"*","task_name":"..."}) or run with --task-id`)
	}
	if sheet != "" {
		s.read.Sheet = sheet
	}
	if m != nil {
		fm, err := fieldMap(m)
		if err != nil {
			return s, fmt.Errorf("%s: %w: map: %v", name, ErrBadConfig, err)
		}
		s.read.Map = fm
	}
	if rule != nil {
		r, err := api.ParseRule(*rule)
		if err != nil {
			return s, fmt.Errorf("%s: %w: rule: %v", name, ErrBadConfig, err)
		}
		s.rule = r
	}
	return s, nil
}

// resolve finds (or creates) a task once per pass.
func (b *Inbox) resolve(ctx context.Context, ref job.TaskRef, cache map[job.TaskRef]api.Task) (api.Task, error) {
	key := job.TaskRef{ID: ref.ID, Name: ref.Name}
	if t, ok := cache[key]; ok {
		return t, nil
	}
	t, created, err := job.ResolveTask(ctx, b.client, ref)
	if err != nil {
		return t, err
	}
	if created {
		b.log(fmt.Sprintf("created task %q (id %s)", t.TaskName, t.TaskID))
	}
	cache[key] = t
	return t, nil
}

// file takes one file: a copy goes to done/ at once, anything else is
// imported (or resumed) and moved on by its outcome. stop is set when the
// other files would fail the same way (credentials refused); a task that
// cannot be found stops only the files routed to it.
func (b *Inbox) file(ctx context.Context, cfg Config, c candidate, cache map[job.TaskRef]api.Task) (l Line, stop bool) {
	path := filepath.Join(b.dir, c.name)
	l = Line{Summary: job.Summary{File: path, StartedAt: b.o.Now()}, State: StatePending}
	stay := func(err error) (Line, bool) {
		l.ExitCode, l.Error, l.Hint = int(job.CodeOf(err)), err.Error(), job.HintOf(err)
		if l.ExitCode == 0 {
			l.ExitCode = int(job.CodeFailed)
		}
		if l.FinishedAt.IsZero() {
			l.FinishedAt = b.o.Now()
		}
		b.appendSummary(l)
		return l, api.IsAuth(err)
	}
	set, err := b.settingsFor(cfg, c.name)
	if err != nil {
		return stay(err)
	}
	l.Rule = set.rule
	sha, err := hashFile(ctx, path)
	if err != nil {
		return stay(fmt.Errorf("%s: %w", path, err))
	}
	l.SHA256 = sha
	task, err := b.resolve(ctx, set.task, cache)
	if err != nil {
		return stay(fmt.Errorf("%s: task: %w", c.name, err))
	}
	l.TaskID = task.TaskID
	work := b.workDir(sha, task.TaskID)
	report := filepath.Join(work, "results."+string(reportFormat(b.o.Job.ReportFormat)))

	// Already decided: a crash between the ledger and the move is
	// finished; the same content under another name is a copy.
	for _, st := range []State{StateImported, StateFailed} {
		e, ok, err := b.ledger.Find(ctx, sha, task.TaskID, st)
		if err != nil {
			return stay(err)
		}
		if ok && e.Name == c.name && exists(work) {
			return b.recover(ctx, e, work), false
		}
		if ok && st == StateImported && !b.o.Job.Force {
			return b.copyOf(ctx, l, c.name, e.Name, e.MovedTo), false
		}
	}
	if b.o.Job.History != nil && !b.o.Job.Force {
		earlier, err := b.o.Job.History.ImportedContent(ctx, sha, task.TaskID)
		if err != nil {
			return stay(fmt.Errorf("%s: read the import history: %w", c.name, err))
		}
		for _, e := range earlier {
			if e.State == history.StateDone && e.Report != report {
				return b.copyOf(ctx, l, c.name, e.File, fmt.Sprintf("history #%d", e.ID)), false
			}
		}
	}

	// Import, or resume the import of this content into this task.
	entry := Entry{SHA256: sha, TaskID: task.TaskID, Name: c.name, State: StatePending, StartedAt: l.StartedAt}
	e, ok, err := b.ledger.Find(ctx, sha, task.TaskID, StatePending)
	if err != nil {
		return stay(err)
	}
	id := e.ID
	if ok {
		entry.StartedAt = e.StartedAt
		b.log(fmt.Sprintf("%s: resuming its interrupted import (ledger entry %d, first taken as %s)", c.name, e.ID, e.Name))
	} else if id, err = b.ledger.Add(ctx, entry); err != nil {
		return stay(err)
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return stay(fmt.Errorf("%s: %w", c.name, err))
	}
	o := b.o.Job
	o.Rule, o.Read = set.rule, set.read
	o.Report, o.ReportFormat = report, reportFormat(o.ReportFormat)
	o.Attention, o.AttentionFormat = filepath.Join(work, "attention.csv"), reports.CSV
	o.Resume = true
	o.Source = history.SourceInbox
	o.LockWait = 0 // a held task lock: the file waits for the next pass
	o.Command = "m7import inbox " + b.dir + " (" + c.name + ")"
	resolve := func(ctx context.Context) (api.Task, error) {
		t, _, err := job.ResolveTask(ctx, b.client, job.TaskRef{ID: task.TaskID})
		return t, err
	}
	b.log(fmt.Sprintf("%s: importing into task %s", c.name, task.TaskID))
	sum, runErr := job.File(ctx, b.client, resolve, path, o)
	sum.File = path
	l.Summary = sum
	if sum.SHA256 != "" && sum.SHA256 != sha {
		// Changed between the inbox's hash and the import's: the ledger
		// keys what was imported.
		l.SHA256, entry.SHA256 = sum.SHA256, sum.SHA256
	}
	if runErr != nil {
		l.Hint = job.HintOf(runErr)
	}
	code := job.CodeOf(runErr)
	switch {
	case runErr == nil || code == job.CodeIncomplete:
		l.State = StateImported
	case code == job.CodeRefused || ContentError(runErr):
		l.State = StateFailed
	default:
		// Stopped, or stopped for a reason of the run (network, auth,
		// a dead gateway, a held lock): the file stays and resumes.
		if l.ExitCode == 0 {
			l.ExitCode = int(job.CodeFailed)
		}
		entry.ExitCode, entry.Error = l.ExitCode, l.Error
		raw, _ := json.Marshal(l)
		entry.Summary, entry.FinishedAt = raw, b.o.Now()
		if err := b.ledger.Update(context.WithoutCancel(ctx), id, entry); err != nil {
			b.log("warning: " + err.Error())
		}
		b.appendSummary(l)
		return l, api.IsAuth(runErr)
	}
	entry.State, entry.ExitCode, entry.Error = l.State, l.ExitCode, l.Error
	dest := DoneDir
	if l.State == StateFailed {
		dest = FailedDir
	}
	return b.finish(context.WithoutCancel(ctx), id, entry, l, work, dest), false
}

// ContentError reports whether an import failed for its file's content
// (unreadable, not a lead file, no number column, a row that cannot be
// read): such a file goes to failed/, where retrying it cannot help.
// Anything else that stops a file is a reason of the run, and the file
// stays to be retried.
func ContentError(err error) bool {
	if err == nil {
		return false
	}
	for _, s := range []error{importer.ErrUnsupportedFormat, importer.ErrNoNumberColumn, importer.ErrSheetNotFound,
		importer.ErrEmptyFile, importer.ErrCorruptFile, importer.ErrTooLarge, importer.ErrExtension,
		importer.ErrJoinedRows, importer.ErrBadOption, importer.ErrNotRegularFile} {
		if errors.Is(err, s) {
			return true
		}
	}
	var re *importer.RowError
	return errors.As(err, &re)
}

// copyOf moves a file whose content is already in the task to done/,
// saying of which earlier file it is a copy.
func (b *Inbox) copyOf(ctx context.Context, l Line, name, earlier, where string) Line {
	l.State, l.CopyOf = StateCopy, earlier
	if where != "" {
		l.CopyOf = earlier + " (" + where + ")"
	}
	b.log(fmt.Sprintf("%s: same content as %s, already imported into task %s: not imported again", name, l.CopyOf, l.TaskID))
	to, err := freeName(filepath.Join(b.dir, DoneDir), name)
	if err != nil {
		l.ExitCode, l.Error = int(job.CodeFailed), err.Error()
		l.State = StatePending
		b.appendSummary(l)
		return l
	}
	l.MovedTo = filepath.Join(DoneDir, to)
	l.FinishedAt = b.o.Now()
	raw, _ := json.Marshal(l)
	e := Entry{SHA256: l.SHA256, TaskID: l.TaskID, Name: name, State: StateCopy, MovedTo: l.MovedTo, CopyOf: l.CopyOf,
		StartedAt: l.StartedAt, FinishedAt: l.FinishedAt, Summary: raw}
	if _, err := b.ledger.Add(ctx, e); err != nil {
		l.ExitCode, l.Error, l.State, l.MovedTo = int(job.CodeFailed), err.Error(), StatePending, ""
		b.appendSummary(l)
		return l
	}
	if err := os.Rename(filepath.Join(b.dir, name), filepath.Join(b.dir, l.MovedTo)); err != nil {
		b.log(fmt.Sprintf("warning: move %s to %s: %v", name, l.MovedTo, err))
	}
	b.appendSummary(l)
	return l
}

// sides are the files that belong to one imported file.
type sides struct{ report, meta, journal, attention string }

func sidesOf(dir, name, format string) sides {
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	rep := filepath.Join(dir, stem+".results."+format)
	return sides{report: rep, meta: rep + ".meta.json", journal: rep + ".journal", attention: filepath.Join(dir, stem+".attention.csv")}
}

// finish records the file's outcome and destination in the ledger, then
// moves it and its report there, then writes its summary line: a crash
// between two steps is finished by the next pass (recover).
func (b *Inbox) finish(ctx context.Context, id int64, e Entry, l Line, work, dest string) Line {
	format := string(reportFormat(b.o.Job.ReportFormat))
	destDir := filepath.Join(b.dir, dest)
	name, err := freeName(destDir, e.Name, func(n string) []string {
		s := sidesOf(destDir, n, format)
		return []string{s.report, s.meta, s.journal, s.attention}
	})
	if err != nil {
		l.State, l.ExitCode, l.Error = StatePending, int(job.CodeFailed), err.Error()
		b.appendSummary(l)
		return l
	}
	l.MovedTo = filepath.Join(dest, name)
	to := sidesOf(destDir, name, format)
	if l.Report != "" && exists(l.Report) {
		l.Report = to.report
	} else {
		l.Report = ""
	}
	if l.Attention != "" {
		l.Attention = to.attention
	}
	l.FinishedAt = b.o.Now()
	raw, _ := json.Marshal(l)
	e.MovedTo, e.Summary, e.FinishedAt = l.MovedTo, raw, l.FinishedAt
	if err := b.ledger.Update(ctx, id, e); err != nil {
		l.State, l.MovedTo, l.Error = StatePending, "", err.Error()
		b.appendSummary(l)
		return l
	}
	b.move(ctx, e, l, work)
	b.appendSummary(l)
	return l
}

// recover finishes a file whose outcome the ledger recorded before a crash
// stopped its move.
func (b *Inbox) recover(ctx context.Context, e Entry, work string) Line {
	var l Line
	if err := json.Unmarshal(e.Summary, &l); err != nil || e.MovedTo == "" {
		l = Line{SHA256: e.SHA256, State: e.State, MovedTo: e.MovedTo}
		l.File, l.TaskID, l.ExitCode, l.Error = filepath.Join(b.dir, e.Name), e.TaskID, e.ExitCode, e.Error
	}
	b.log(fmt.Sprintf("%s: finishing what an interrupted inbox left: moving it to %s", e.Name, e.MovedTo))
	b.move(ctx, e, l, work)
	b.appendSummary(l)
	return l
}

// move puts the file and what belongs to it where the ledger says, and
// tells the history where the report went. Each step tolerates having been
// done already.
func (b *Inbox) move(ctx context.Context, e Entry, l Line, work string) {
	destDir := filepath.Join(b.dir, filepath.Dir(e.MovedTo))
	if err := os.MkdirAll(destDir, 0o755); err != nil {
		b.log(fmt.Sprintf("warning: %s: %v", e.Name, err))
		return
	}
	format := string(reportFormat(b.o.Job.ReportFormat))
	from := sides{report: filepath.Join(work, "results."+format)}
	from.meta, from.journal = from.report+".meta.json", from.report+".journal"
	from.attention = filepath.Join(work, "attention.csv")
	to := sidesOf(destDir, filepath.Base(e.MovedTo), format)
	moves := [][2]string{
		{from.report, to.report}, {from.meta, to.meta}, {from.journal, to.journal}, {from.attention, to.attention},
		{filepath.Join(b.dir, e.Name), filepath.Join(b.dir, e.MovedTo)},
	}
	for _, m := range moves {
		if err := os.Rename(m[0], m[1]); err != nil && !errors.Is(err, os.ErrNotExist) {
			b.log(fmt.Sprintf("warning: move %s to %s: %v", m[0], m[1], err))
		}
	}
	if h := b.o.Job.History; h != nil && l.HistoryID != 0 {
		p := history.Paths{Report: to.report, Meta: to.meta, Journal: to.journal}
		if exists(to.attention) {
			p.Attention = to.attention
		}
		if err := h.UpdatePaths(ctx, l.HistoryID, p); err != nil {
			b.log(fmt.Sprintf("warning: could not record where %s's report went in the history: %v", e.Name, err))
		}
	}
	if err := os.RemoveAll(work); err != nil {
		b.log(fmt.Sprintf("warning: %v", err))
	}
	os.Remove(filepath.Dir(work)) // the content's folder, once no task has work in it
}

// appendSummary writes the file's line to DIR/summary.jsonl and syncs it.
// A line cut by a crash is ended before the next one is written, so each
// line stays parseable on its own.
func (b *Inbox) appendSummary(l Line) {
	raw, err := json.Marshal(l)
	if err != nil {
		b.log(fmt.Sprintf("warning: summary of %s: %v", l.File, err))
		return
	}
	p := filepath.Join(b.dir, SummaryFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		b.log(fmt.Sprintf("warning: %v", err))
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			raw = append([]byte{'\n'}, raw...)
		}
	}
	if _, err := f.Write(append(raw, '\n')); err != nil {
		b.log(fmt.Sprintf("warning: write %s: %v", p, err))
		return
	}
	if err := f.Sync(); err != nil {
		b.log(fmt.Sprintf("warning: write %s: %v", p, err))
	}
}

// workDir is where the report and journal of this content's import into
// this task live until the file is moved on: keyed by content, so that a
// file renamed after an interrupted run still finds its journal.
func (b *Inbox) workDir(sha, taskID string) string {
	return filepath.Join(b.state, WorkDir, sha, safeName(taskID))
}

// safeName makes a task id usable as a folder name.
func safeName(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	if sb.Len() == 0 || strings.Trim(sb.String(), ".") == "" {
		return "task_" + hex.EncodeToString([]byte(s))
	}
	return sb.String()
}

// freeName returns name, or name with a suffix (leads-2.csv) when it, or
// one of the files that would go beside it, already exists in dir.
func freeName(dir, name string, besides ...func(string) []string) (string, error) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; i < 10000; i++ {
		n := name
		if i > 1 {
			n = fmt.Sprintf("%s-%d%s", stem, i, ext)
		}
		taken := exists(filepath.Join(dir, n))
		for _, f := range besides {
			for _, p := range f(n) {
				taken = taken || exists(p)
			}
		}
		if !taken {
			return n, nil
		}
	}
	return "", fmt.Errorf("no free name for %s in %s: clear the folder out", name, dir)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func reportFormat(f reports.Format) reports.Format {
	if f == "" {
		return reports.CSV
	}
	return f
}

// hashFile is the SHA-256 of a file's bytes, lower-case hex.
func hashFile(ctx context.Context, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ctxReader stops a long read when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
