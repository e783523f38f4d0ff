package cost

// DynamoDB request units per record written or updated, counted from
// internal/store/dynamo: a record is one item (assumed at most 1 KB: one
// write unit) plus one entry in each global secondary index its keys put it
// in (every index projects ALL attributes, so an index entry costs what the
// item costs). A status update reads the item with a strongly consistent
// GetItem (one read unit up to 4 KB) and writes it back conditioned on its
// version: the item and every index entry are rewritten, and the entries
// keyed by the status are moved (a delete and a put each).
const (
	// WriteTriggerInstance: the item, GSI1 (feed), GSI2 (trigger type),
	// GSI8 (trace tag).
	WriteTriggerInstance = 4
	// WriteEnforcement: the item, GSI1 (feed), GSI2 (rule), GSI8 (trace).
	WriteEnforcement = 4
	// WriteExecution: the item, GSI1 (feed), GSI2 (action), GSI3 (status),
	// GSI4 (action and status), GSI5 (rule) or GSI7 (parent), GSI6 (trigger
	// instance), GSI8 (trace).
	WriteExecution = 8
	// WriteExecutionUpdate: the item and its seven index entries, GSI3 and
	// GSI4 moved: 1 + 5 + 2×2.
	WriteExecutionUpdate = 10
	// ReadExecutionUpdate: the strongly consistent read before the write.
	ReadExecutionUpdate = 1
	// WriteResult: the result, one chunk item (no index) when at most 1 KB.
	WriteResult = 1
	// WriteOutput: one output chunk item (no index) per runner invocation.
	WriteOutput = 1
	// WriteInquiry: the item, GSI1 (feed), GSI3 (status).
	WriteInquiry = 3
	// WriteInquiryResolve and ReadInquiryResolve: answering it, GSI3 moved.
	WriteInquiryResolve = 4
	ReadInquiryResolve  = 1
)
