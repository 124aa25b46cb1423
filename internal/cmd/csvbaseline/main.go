// Command csvbaseline only reads a CSV file with encoding/csv (ReuseRecord)
// and prints the number of records: the floor scripts/bench compares
// `m7import validate` on CSV against.
//
//	csvbaseline leads.csv
package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: csvbaseline FILE.csv")
		os.Exit(2)
	}
	n, err := count(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "csvbaseline: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(n)
}

// count returns the number of records in the CSV file, header included.
func count(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
