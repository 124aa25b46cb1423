package importer

// Status is a row's outcome. Its string form is exactly the word the
// results report uses.
type Status string

// The statuses a row can have. The reader assigns Valid, Invalid and
// Duplicate; the uploader turns Valid into one of the others.
const (
	Valid       Status = "valid"
	Invalid     Status = "invalid"
	Duplicate   Status = "duplicate"
	Imported    Status = "imported"
	Failed      Status = "failed"
	Unconfirmed Status = "unconfirmed"
	Skipped     Status = "skipped"
)

// Record is one non-blank input row on its way from the file to the report:
// the one currency between the reader, the chunker, the uploader and the
// reporter.
type Record struct {
	// Row is the row number as the user sees it: the Excel row number for
	// XLSX, the line on which the record starts for CSV (header = 1).
	Row int
	// Name, Remark and AgentNumber are the trimmed cells; Number is the
	// phone-number cell exactly as read (not trimmed).
	Name        string
	Number      string
	Remark      string
	AgentNumber string
	// Normalized is the number in the form sent to the dialer; empty when
	// the row is invalid.
	Normalized string
	Status     Status
	// Reason explains an invalid, duplicate, failed or unconfirmed row.
	Reason string
	// Batch is the 1-based batch number the row was sent in (0: not sent).
	Batch int
	// RequestID is the API's requestInfo.requestId for the row's batch.
	RequestID string
	// Cells are the row's cells as read, in the file's column order (a
	// whole-number XLSX cell as its digits), when Options.KeepCells is set:
	// the attention file repeats the input's own columns. Nil otherwise.
	// For an attention file read back, the row, status and reason columns
	// are not among them.
	Cells []string
	// PriorRow and PriorStatus are the row number and status an attention
	// file gave this row (see Reader.IsAttention); zero otherwise.
	PriorRow    int
	PriorStatus Status
}
