using System.Runtime.CompilerServices;

namespace CeleryKube.Lcs;

/// <summary>
/// Reads one symbol of a text stored as bytes, 16-bit or 32-bit values. The type tests fold away when the JIT
/// specialises a generic method for one of them, so the hot loops pay nothing for being generic.
/// </summary>
internal static unsafe class Symbols
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int At<T>(T* text, int index)
        where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
        {
            return ((byte*)text)[index];
        }

        if (typeof(T) == typeof(ushort))
        {
            return ((ushort*)text)[index];
        }

        return ((int*)text)[index];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int At<T>(ReadOnlySpan<T> text, int index)
        where T : unmanaged
    {
        fixed (T* t = text)
        {
            return At(t, index);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set<T>(T* text, int index, int value)
        where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
        {
            ((byte*)text)[index] = (byte)value;
        }
        else if (typeof(T) == typeof(ushort))
        {
            ((ushort*)text)[index] = (ushort)value;
        }
        else
        {
            ((int*)text)[index] = value;
        }
    }
}
