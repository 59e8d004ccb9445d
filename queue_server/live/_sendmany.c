/* One frame sent on many sockets with the GIL released for the whole run.
 *
 * The C twin of queue_server.api.fastsend.send_each_py, same arguments and
 * result: send_each(socks, frame, start, stop) sends `frame` on
 * socks[start:stop] (socket objects) and returns [(index, bytes sent)] for
 * every socket that did not take all of it at once: 0..len-1 when its send
 * buffer was full, -1 when send() failed or the socket is closed.
 *
 * The descriptors are read from the socket objects while the GIL is held,
 * in this call, so a socket closed earlier (fileno() == -1) is never
 * mistaken for a new connection that reused its number. The caller's event
 * loop waits for this call, so none of these sockets is closed meanwhile.
 * Optional: when it cannot be compiled, fastsend uses its Python loop.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <sys/socket.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

static PyObject *send_each(PyObject *self, PyObject *args) {
    PyObject *socks;
    Py_buffer frame;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "Oy*nn", &socks, &frame, &start, &stop))
        return NULL;
    PyObject *seq = PySequence_Fast(socks, "socks must be a sequence");
    if (seq == NULL) {
        PyBuffer_Release(&frame);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (start < 0) start = 0;
    if (stop > n) stop = n;
    if (stop < start) stop = start;
    Py_ssize_t count = stop - start;
    PyObject *result = NULL;
    /* per socket: its descriptor, then what send() did with the frame */
    Py_ssize_t *v = PyMem_Malloc(sizeof(Py_ssize_t) * (count ? count : 1));
    if (v == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        int fd = PyObject_AsFileDescriptor(items[start + i]);
        if (fd < 0) {           /* closed socket: fileno() is -1 */
            PyErr_Clear();
            fd = -1;
        }
        v[i] = fd;
    }
    const char *buf = frame.buf;
    Py_ssize_t len = frame.len;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        if (v[i] < 0)
            continue;           /* stays -1 */
        ssize_t k;
        do {
            k = send((int)v[i], buf, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } while (k < 0 && errno == EINTR);
        if (k < 0)
            k = (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        v[i] = k;
    }
    Py_END_ALLOW_THREADS
    result = PyList_New(0);
    for (Py_ssize_t i = 0; result != NULL && i < count; i++) {
        if (v[i] == len)
            continue;
        PyObject *pair = Py_BuildValue("(nn)", start + i, v[i]);
        if (pair == NULL || PyList_Append(result, pair) < 0)
            Py_CLEAR(result);
        Py_XDECREF(pair);
    }
done:
    PyMem_Free(v);
    Py_DECREF(seq);
    PyBuffer_Release(&frame);
    return result;
}

static PyMethodDef methods[] = {
    {"send_each", send_each, METH_VARARGS,
     "send_each(socks, frame, start, stop) -> [(index, bytes sent)] of the sockets that did not take all of it"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sendmany", "One frame sent on many sockets without the GIL.", -1, methods,
};

PyMODINIT_FUNC PyInit__sendmany(void) {
    return PyModule_Create(&module);
}
