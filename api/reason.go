package api

import (
	"errors"
	"fmt"
)

// Reason turns an API failure into a report's reason: the HTTP status,
// code and message the API gave, or the transport error.
func Reason(err error) string {
	var ae *Error
	if errors.As(err, &ae) && (ae.Code != "" || ae.Message != "") {
		s := ""
		if ae.HTTPStatus != 0 && ae.HTTPStatus != 200 {
			s = fmt.Sprintf("HTTP %d ", ae.HTTPStatus)
		}
		return s + fmt.Sprintf("code %s: %s", ae.Code, ae.Message)
	}
	return err.Error()
}
