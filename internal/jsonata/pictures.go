package jsonata

// pictureFunctions returns the picture-string and date/time functions
// ($formatNumber, $formatBase, $formatInteger, $parseInteger, $fromMillis,
// $toMillis, $now). They are registered once their implementations exist.
func pictureFunctions() []fnDef {
	return nil
}
