"""graphgrad's pictures: computation graphs (graphviz) and training plots."""
