package web

import "net/http"

// handleImports lists past imports, newest first.
// phase 2: read them from the history store; until then there are none.
func (s *Server) handleImports(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []struct{}{})
}
