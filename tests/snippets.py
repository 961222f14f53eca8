"""Code the tests type into a REPL or write into a file, shared: the article's broken Function."""

# SwapGrad: doubles its input, but its backward returns the grad transposed (a `shape` flag).
SWAP_GRAD = """\
class SwapGrad(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_output):
        return (grad_output * 2).T
"""
