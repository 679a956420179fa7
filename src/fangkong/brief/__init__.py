"""The daily brief (每日一研判): per jurisdiction and day, as HTML, PDF and XLSX."""
