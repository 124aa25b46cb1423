//go:build !race

package job_test

// raceEnabled is set under -race, where a million rows would take minutes.
const raceEnabled = false
