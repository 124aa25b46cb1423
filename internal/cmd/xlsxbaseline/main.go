// Command xlsxbaseline only iterates the first sheet of an XLSX file with
// excelize's Rows() iterator (default options) and prints the number of
// rows: the baseline scripts/bench compares `m7import validate` on XLSX
// against.
//
//	xlsxbaseline leads.xlsx
package main

import (
	"fmt"
	"os"

	"github.com/xuri/excelize/v2"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: xlsxbaseline FILE.xlsx")
		os.Exit(2)
	}
	n, err := count(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "xlsxbaseline: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(n)
}

// count returns the number of rows of the workbook's first sheet, header
// included, reading every row's cells.
func count(path string) (int, error) {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if _, err := rows.Columns(); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Error()
}
