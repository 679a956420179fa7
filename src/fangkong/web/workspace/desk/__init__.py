"""The testing officer's and the isolation officer's desks (issue 20): the day's work of mass
testing and of isolation sites in the browser, over the services the API and the CLI call."""
