// Placeholder: results.json schema and the HTML report are implemented here (see issue 2).
