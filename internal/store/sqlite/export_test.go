package sqlite

// ExecutionListSQL exposes the listing query to the query-plan test.
var ExecutionListSQL = executionListSQL
