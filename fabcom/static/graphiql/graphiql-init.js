// Starts GraphiQL against this instance's endpoint; the session cookie goes along.
(function () {
  var root = document.getElementById("graphiql");
  var fetcher = GraphiQL.createFetcher({ url: root.getAttribute("data-endpoint") });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      defaultQuery:
        "# The network's inventory, 10 items at a time.\n" +
        "query {\n  items(first: 10) {\n    totalCount\n    edges { node { title organization { name } } }\n" +
        "    pageInfo { hasNextPage endCursor }\n  }\n}\n",
    })
  );
})();
