package i18n

import "fmt"

// Key names a fixed sentence front ends print: the summary, the progress
// line, notices. A typed constant, so a misspelt key is a compile error.
type Key int

// The sentences, with their English form (the Chinese is in catalog). The
// verbs are fmt's; T's args fill them in this order in both languages.
const (
	// SummaryImport: "%s: %d rows read: %d imported, %d invalid, %d duplicate, %d failed, %d unconfirmed, %d skipped"
	// (file, rows, imported, invalid, duplicate, failed, unconfirmed, skipped).
	SummaryImport Key = iota
	// SummaryCheck: "%s: %d rows read, %d valid, %d invalid, %d duplicate" (a dry run or validate).
	SummaryCheck
	// SummaryBatches: "  %d batches, %d retries, %s" (batches, retries, elapsed).
	SummaryBatches
	// SummaryTaskTotal: "; task %s numbers %d → %d (%+d)" (task id, before, after, added).
	SummaryTaskTotal
	// SummaryReport: "  report: %s".
	SummaryReport
	// SummarySentThisRun: "  this run sent %d rows (a resume sends only what the earlier run did not)".
	SummarySentThisRun
	// SummaryKeptThisRun: "  the server kept %d of the %d rows this run sent (it drops numbers the task already holds)".
	SummaryKeptThisRun
	// SummarySettled: "  %d batches whose reply was lost were confirmed from the task's count".
	SummarySettled
	// ProgressChecked: "%s: %d rows read, %d valid so far" (file, read, valid), a check's log line.
	ProgressChecked
	// ProgressOfTotal: "%s: %d of %d valid rows done (%d%%)" (file, done, total, percent).
	ProgressOfTotal
	// ProgressSoFar: "%s: %d rows read, %d valid so far, %d of them done" (file, read, valid, done).
	ProgressSoFar
	// ProgressSending: "sending %s" (file), the progress bar's description.
	ProgressSending
	// ProgressChecking: "checking %s" (file), the bar's description in a dry run.
	ProgressChecking
	// ProgressRows: "rows", the bar's unit.
	ProgressRows
	// Resuming: "resuming %s: %d batches already imported" (file, batches).
	Resuming
	// ResumeWaiting: "resuming %s: waiting %s for the server to finish what
	// the interrupted run sent %s ago, before resending it" (file, wait, age).
	ResumeWaiting
	// CreatedTask: "created task %q (id %s)" (name, id).
	CreatedTask
	// Warning: "warning: %s", before a warning's sentence.
	Warning
	// Hint: "try: %s", the line after an error that says what to run.
	Hint

	numKeys // keep last
)

// catalog holds each key's English and Chinese.
var catalog = [numKeys]struct{ en, zh string }{
	SummaryImport:      {"%s: %d rows read: %d imported, %d invalid, %d duplicate, %d failed, %d unconfirmed, %d skipped", "%s：读取 %d 行：已导入 %d，无效 %d，重复 %d，失败 %d，未确认 %d，跳过 %d"},
	SummaryCheck:       {"%s: %d rows read, %d valid, %d invalid, %d duplicate", "%s：读取 %d 行，有效 %d，无效 %d，重复 %d"},
	SummaryBatches:     {"  %d batches, %d retries, %s", "  %d 个批次，重试 %d 次，用时 %s"},
	SummaryTaskTotal:   {"; task %s numbers %d → %d (%+d)", "；任务 %s 号码数 %d → %d（%+d）"},
	SummaryReport:      {"  report: %s", "  报告：%s"},
	SummarySentThisRun: {"  this run sent %d rows (a resume sends only what the earlier run did not)", "  本次运行发送了 %d 行（继续运行只发送上次未发送的行）"},
	SummaryKeptThisRun: {"  the server kept %d of the %d rows this run sent (it drops numbers the task already holds)", "  服务器保留了本次发送的 %[2]d 行中的 %[1]d 行（任务中已有的号码会被丢弃）"},
	SummarySettled:     {"  %d batches whose reply was lost were confirmed from the task's count", "  %d 个批次的回复丢失，已根据任务的号码数确认导入"},
	ProgressChecked:    {"%s: %d rows read, %d valid so far", "%s：已读取 %d 行，其中有效 %d 行"},
	ProgressOfTotal:    {"%s: %d of %d valid rows done (%d%%)", "%s：有效行已完成 %d / %d（%d%%）"},
	ProgressSoFar:      {"%s: %d rows read, %d valid so far, %d of them done", "%s：已读取 %d 行，其中有效 %d 行，已完成 %d 行"},
	ProgressSending:    {"sending %s", "正在发送 %s"},
	ProgressChecking:   {"checking %s", "正在检查 %s"},
	ProgressRows:       {"rows", "行"},
	Resuming:           {"resuming %s: %d batches already imported", "继续 %s：已导入 %d 个批次"},
	ResumeWaiting:      {"resuming %s: waiting %s for the server to finish what the interrupted run sent %s ago, before resending it", "继续 %s：中断的运行在 %[3]s 前发出的请求可能仍在处理，等待 %[2]s 后再重发"},
	CreatedTask:        {"created task %q (id %s)", "已创建任务 %q（ID %s）"},
	Warning:            {"warning: %s", "警告：%s"},
	Hint:               {"try: %s", "可以试试：%s"},
}

// T returns the sentence k in l with args filled in, as fmt.Sprintf would.
func T(l Lang, k Key, args ...any) string {
	if k < 0 || k >= numKeys {
		return fmt.Sprintf("i18n.Key(%d)", int(k))
	}
	f := catalog[k].en
	if l == Zh {
		f = catalog[k].zh
	}
	return fmt.Sprintf(f, args...)
}
