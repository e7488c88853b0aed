"""Hide gated solutions (``solution-start`` ... ``solution-end``) when ``hide_solutions`` is set.

sphinx-exercise 1.2.1 drops the start of a hidden gated solution but keeps what follows it, and
the end marker, which no writer can render (executablebooks/sphinx-exercise#89). Here the start
leaves a marker instead, and everything from it to the matching ``solution-end`` is removed.
"""

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node


class hidden_solution_start(nodes.Element):
    """Where a hidden gated solution starts; removed before the doctree is written."""


class SolutionStart(SolutionStartDirective):
    """``solution-start`` that marks where a hidden solution starts."""

    def run(self):
        result = super().run()
        return [hidden_solution_start()] if self.config.hide_solutions else result


class RemoveHiddenSolutions(SphinxTransform):
    """Remove each hidden gated solution, from its start marker to its ``solution-end``."""

    default_priority = 5  # after sphinx-exercise checks the gates (1), before it merges them (10)

    def apply(self, **kwargs) -> None:
        for start in list(self.document.findall(hidden_solution_start)):
            parent = start.parent
            first = parent.index(start)
            ends = [
                i for i in range(first, len(parent)) if isinstance(parent[i], solution_end_node)
            ]
            if not ends:
                raise ExtensionError(f"{self.env.docname}: a solution-start without solution-end")
            del parent[first : ends[0] + 1]


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.add_directive("solution-start", SolutionStart, override=True)
    app.add_transform(RemoveHiddenSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
