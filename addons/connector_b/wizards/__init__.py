# The upload wizard: file + profile → a previewed import job.
from . import upload
