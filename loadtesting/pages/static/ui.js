document.documentElement.setAttribute("data-page-ready", "true");
