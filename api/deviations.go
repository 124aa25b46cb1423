package api

// Deviations and guesses.
//
// Everything this package (and the simulator in api/sim) assumes where the
// vendor document (../shared/spec/7moor-dialout-task-api.txt) is silent,
// unclear or self-contradictory is listed here, so that a correction is a
// change in one place. NOTES.md (../shared/spec/NOTES.md) records the project
// decisions these follow.
//
//	point                         | document                              | this package
//	------------------------------+---------------------------------------+-------------------------------------------
//	timestamp                     | curl examples: 13 digits              | 10-digit Unix seconds (AUTH.md)
//	nonce                         | "6-digit random number"               | 100000..999999 from crypto/rand; the default
//	                              |                                       | source never repeats one within 5 minutes
//	                              |                                       | (NOTES.md "nonces"); the simulator requires
//	                              |                                       | exactly 6 digits
//	query field                   | table `name`, curl `taskName`         | send `name` (QueryTasksRequest's tag); the
//	                              |                                       | simulator also accepts `taskName`
//	query match                   | not said                              | simulator: substring match on the name (what
//	                              |                                       | a CRM search box does); TaskList.Named picks
//	                              |                                       | exact matches
//	task `status` in get          | not in the response table             | decoded when present (simulator sends it)
//	create response               | no data, no id                        | CreateTask returns only Meta; look the id up
//	numberTotal, agentTotal,count | string in table, number in example    | both decoded (flexInt)
//	importData                    | "string" in table, array in example   | array of {name, number, remark, agentNumber}
//	importData agentNumber        | empty/unknown => spread over agents   | sent as given ("" when empty); the simulator
//	                              |                                       | spreads rows whose agent is empty or not an
//	                              |                                       | enabled agent round-robin over the task's agents
//	rule                          | 0 all tasks, 1 this task, 2 none      | always sent, even 0; the simulator also treats
//	                              |                                       | earlier rows of the same request as present
//	                              |                                       | (rule 0 and 1)
//	update                        | taskName, description                 | empty fields are omitted = left unchanged
//	delete filters                | customerNumber, remark typed number   | sent as strings, omitted when empty, ANDed;
//	                              |                                       | a delete with only taskId empties the task
//	create agentNumberList        | not said                              | nil lists are sent as []; the simulator refuses
//	                              |                                       | an agent number the account does not have
//	error responses               | not documented                        | success:false + code + message, or a non-2xx
//	                              |                                       | status. Codes used by the simulator and
//	                              |                                       | understood by Classify/IsAuth are the Code*
//	                              |                                       | constants below (HTTP status as a string)
//	replay refusal                | "rejects a repeated sign+nonce"       | HTTP 409 / code "409": Retryable with a fresh
//	                              |                                       | nonce, not an auth failure (NOTES.md)
//	clock skew refusal            | "rejects timestamp > 5 min off"       | HTTP 403 / code "403": IsAuth (the clock must be
//	                              |                                       | fixed; retrying will not help)
//	success:false with HTTP 200   | not documented                        | a code known to mean "not processed" (the
//	                              |                                       | simulator's Code* refusals; no vendor code
//	                              |                                       | yet) takes its class; any other code, e.g.
//	                              |                                       | ERR_BUSY, is Ambiguous (NOTES.md "business
//	                              |                                       | error codes"; the list is refusedCode)
//	agent query                   | AGENT-QUERY.md                        | projection is not sent; AllAgents pages with
//	                              |                                       | limit 100 until a short page
//	number identity (simulator)   | not said                              | a number is its trimmed string: 138... and
//	                              |                                       | +86138... are different numbers to the server
//	import of a whole call        | not said                              | simulator: any row without a number refuses
//	                              |                                       | the whole call (400), nothing is added
//	delete response               | no data                               | no data: the count deleted is not returned
//	error bodies (simulator)      | not documented                        | every refusal is the full envelope with
//	                              |                                       | requestInfo (requestId = 32 hex digits)
//	check order (simulator)       | not documented                        | path, method, content type, body size,
//	                              |                                       | headers+signature, clock, replay, rate limit,
//	                              |                                       | injected faults, JSON, endpoint validation
const (
	// CodeOK is the envelope code of a successful call.
	CodeOK = "200"
	// CodeInvalid is a validation failure: malformed JSON, a missing or
	// malformed field, too many rows.
	CodeInvalid = "400"
	// CodeAuth is a refused credential: a missing m7-* header, an unknown app
	// key or a wrong signature.
	CodeAuth = "401"
	// CodeClockSkew refuses a timestamp more than 5 minutes from the server's
	// clock.
	CodeClockSkew = "403"
	// CodeNotFound names an unknown task or path.
	CodeNotFound = "404"
	// CodeMethod refuses a method other than POST.
	CodeMethod = "405"
	// CodeReplay refuses a sign+nonce already seen in the last 5 minutes.
	CodeReplay = "409"
	// CodeTooLarge refuses a request body over the server's limit.
	CodeTooLarge = "413"
	// CodeContentType refuses a content type other than application/json.
	CodeContentType = "415"
	// CodeRateLimited refuses a request over the app key's rate limit.
	CodeRateLimited = "429"
	// CodeInternal is a server failure after which the request may or may not
	// have been processed.
	CodeInternal = "500"
	// CodeUnavailable is a refusal before processing (overload, maintenance).
	CodeUnavailable = "503"
)
